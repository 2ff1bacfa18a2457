import { Field, ID, InputType, ObjectType } from '@nestjs/graphql';
import { IdLimit, ListLimit, NameLimit, NestedInput, TextLimit } from '../../graphql/input-limits.js';
import { CATALOGUE_LIMITS } from '../domain/catalogue.decider.js';

@ObjectType({ description: 'One requirement of a baseline catalogue.' })
export class BaselineRequirement {
  @Field(() => ID, { description: 'Stable id, unique within the catalogue.' }) id!: string;
  @Field() title!: string;
  @Field({ description: "The requirement in the catalogue's own words." }) statement!: string;
  @Field({ description: 'Where it comes from (e.g. "Art.27(1)(1)" or "ISO 27001 A.8.24"); may be empty.' }) reference!: string;
}

@ObjectType({ description: 'A baseline catalogue version (Art. 15(2)(1)): the built-in one or an imported one. Immutable once imported.' })
export class BaselineCatalogue {
  @Field(() => ID, { description: '<slug of the name>@<version>' }) id!: string;
  @Field() name!: string;
  @Field({ description: "The catalogue's own version label." }) version!: string;
  @Field({ description: "True for the product's own catalogue, written from the JVCEA rule." }) builtIn!: boolean;
  @Field(() => [BaselineRequirement]) requirements!: BaselineRequirement[];
  @Field(() => ID, { nullable: true, description: 'Null for the built-in catalogue.' }) importedBy?: string;
  @Field(() => String, { nullable: true, description: 'Null for the built-in catalogue.' }) importedAt?: string;
}

@InputType()
export class BaselineRequirementInput {
  @IdLimit() @Field(() => ID, { description: 'Unique within the catalogue (case-insensitive).' }) id!: string;
  @NameLimit() @Field() title!: string;
  @TextLimit() @Field() statement!: string;
  @TextLimit() @Field(() => String, { nullable: true, description: 'Defaults to empty.' }) reference?: string | null;
}

@InputType()
export class ImportBaselineCatalogueInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: 'Idempotency key: a retry with the same commandId returns the first result.' }) commandId?: string;
  @NameLimit() @Field() name!: string;
  @TextLimit() @Field({ description: "The catalogue's own version label: 1 to 40 of A-Z, a-z, 0-9, '.', '_', '-'." }) version!: string;
  @ListLimit(CATALOGUE_LIMITS.maxRequirements) @NestedInput(() => BaselineRequirementInput) @Field(() => [BaselineRequirementInput]) requirements!: BaselineRequirementInput[];
}
