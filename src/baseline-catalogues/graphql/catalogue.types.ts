import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { IdLimit, ListLimit, NameLimit, NestedInput, TextLimit } from '../../graphql/input-limits.js';
import { COMMAND_ID_DESCRIPTION } from '../../graphql/descriptions.js';
import { CATALOGUE_LIMITS } from '../domain/catalogue.decider.js';

@ObjectType({ description: 'One requirement of a baseline catalogue (Art. 15(2)(1)); a baseline analysis marks it MET, PARTIAL, NOT_MET or NOT_APPLICABLE.' })
export class BaselineRequirement {
  @Field(() => ID, { description: 'Stable id, unique within the catalogue (case-insensitive); pass it as a baseline result\'s requirementId.' }) id!: string;
  @Field({ description: 'Short title.' }) title!: string;
  @Field({ description: "The requirement in the catalogue's own words." }) statement!: string;
  @Field({ description: 'Where it comes from, such as "Art.27(1)(1)" or "ISO 27001 A.8.24"; may be empty.' }) reference!: string;
}

@ObjectType({ description: 'A baseline catalogue version (Art. 15(2)(1)): the built-in one, written from the JVCEA rule, or an imported standard. Immutable once imported.' })
export class BaselineCatalogue {
  @Field(() => ID, { description: 'The slug of the name (lowercase a-z, 0-9 and -), then @, then the version, such as iso-27001@2022; pass it as a baseline analysis\'s catalogueId.' }) id!: string;
  @Field({ description: 'Name of the catalogue, 1 to 200 characters.' }) name!: string;
  @Field({ description: "The catalogue's own version label." }) version!: string;
  @Field({ description: "True for the product's own catalogue, written from the JVCEA rule." }) builtIn!: boolean;
  @Field(() => [BaselineRequirement], { description: 'Its requirements, in the order given (1 to 2,000).' }) requirements!: BaselineRequirement[];
  @Field(() => ID, { nullable: true, description: 'User id (JWT sub) of who imported it; null for the built-in catalogue.' }) importedBy?: string;
  @Field(() => String, { nullable: true, description: 'When it was imported (ISO 8601 date-time in UTC); null for the built-in catalogue.' }) importedAt?: string;
}

@InputType({ description: 'One requirement of a catalogue to import.' })
export class BaselineRequirementInput {
  @IdLimit(CATALOGUE_LIMITS.maxRequirementIdLength) @Field(() => ID, { description: `Stable id, 1 to ${CATALOGUE_LIMITS.maxRequirementIdLength} characters, unique within the catalogue (case-insensitive).` }) id!: string;
  @NameLimit() @Field({ description: 'Short title, 1 to 200 characters.' }) title!: string;
  @TextLimit() @Field({ description: `The requirement in the catalogue's own words, 1 to ${CATALOGUE_LIMITS.maxStatementLength.toLocaleString('en')} characters.` }) statement!: string;
  @TextLimit(CATALOGUE_LIMITS.maxReferenceLength) @Field(() => String, { nullable: true, description: `Where it comes from (an article or clause), at most ${CATALOGUE_LIMITS.maxReferenceLength} characters; empty when omitted.` }) reference?: string | null;
}

@InputType({ description: 'Input of importBaselineCatalogue (Art. 15(2)(1)).' })
export class ImportBaselineCatalogueInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @NameLimit() @Field({ description: 'Name of the catalogue, 1 to 200 characters; with version it gives the id.' }) name!: string;
  @TextLimit(CATALOGUE_LIMITS.maxVersionLength) @Field({ description: "The catalogue's own version label: 1 to 40 of A-Z, a-z, 0-9, '.', '_', '-'. The same name and version with other content is rule CATALOGUE_VERSION_IMMUTABLE." }) version!: string;
  @ListLimit(CATALOGUE_LIMITS.maxRequirements) @NestedInput(() => BaselineRequirementInput) @Field(() => [BaselineRequirementInput], { description: '1 to 500 requirements, ids unique (case-insensitive).' }) requirements!: BaselineRequirementInput[];
}
