import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { COMMAND_ID_DESCRIPTION } from '../../graphql/descriptions.js';
import { IdLimit, ListLimit, NameLimit, TextLimit, VersionLimit } from '../../graphql/input-limits.js';
import { CONTEXT_LIMITS } from '../domain/context.decider.js';

const INSTANT = 'Instant (ISO 8601, UTC).';
const LIST = `1 to ${CONTEXT_LIMITS.items} items, each 1 to ${CONTEXT_LIMITS.item.toLocaleString('en')} characters (trimmed), none repeated (compared ignoring case, width and spacing, as asset names are)`;

@ObjectType({
  description:
    "The organisation's context (Art.12(1), 組織内外の状況): the internal and external issues that bear on the safe management of information and the interested parties, for a scope and a period. One context, kept as numbered versions; a new record replaces the version in force.",
})
export class Context {
  @Field(() => ID, { description: 'The context\'s id, always "organisation" (one context per installation); pass it to history(id) for every version.' }) id!: string;
  @Field(() => Int, { description: 'Number of this version: 1 for the first, + 1 for each later record. Pass it as recordContext\'s expectedVersion.' }) version!: number;
  @Field({ description: 'The period this version covers, such as FY2026.' }) period!: string;
  @Field({ description: 'The scope of the information security management it describes.' }) scope!: string;
  @Field(() => [String], { description: 'Internal issues (organisation, systems, people, culture), in the order given.' }) internalIssues!: string[];
  @Field(() => [String], { description: 'External issues (regulation, threats, market, other firms\' incidents), in the order given.' }) externalIssues!: string[];
  @Field(() => [String], { description: 'Interested parties (customers, regulators, the association, custodians, suppliers), in the order given.' }) interestedParties!: string[];
  @Field(() => ID, { description: 'User id (JWT sub) of who recorded this version.' }) recordedBy!: string;
  @Field({ description: `When this version was recorded (it is in force from then until the next). ${INSTANT}` }) recordedAt!: string;
}

@InputType({ description: 'Input of recordContext (Art.12(1)): the whole context; it becomes the next version unless it equals the version in force.' })
export class RecordContextInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: 'Context.version as last read (0 when there was none yet); when another version was recorded since, the command is refused with CONCURRENCY_CONFLICT.' }) expectedVersion?: number;
  @NameLimit(CONTEXT_LIMITS.period) @Field({ description: `The period it covers, such as FY2026; 1 to ${CONTEXT_LIMITS.period} characters.` }) period!: string;
  @TextLimit() @Field({ description: `The scope, 1 to ${CONTEXT_LIMITS.scope.toLocaleString('en')} characters.` }) scope!: string;
  @ListLimit(CONTEXT_LIMITS.items) @TextLimit() @Field(() => [String], { description: `Internal issues: ${LIST}.` }) internalIssues!: string[];
  @ListLimit(CONTEXT_LIMITS.items) @TextLimit() @Field(() => [String], { description: `External issues: ${LIST}.` }) externalIssues!: string[];
  @ListLimit(CONTEXT_LIMITS.items) @TextLimit() @Field(() => [String], { description: `Interested parties: ${LIST}.` }) interestedParties!: string[];
}
