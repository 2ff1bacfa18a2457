import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { COMMAND_ID_DESCRIPTION } from '../../graphql/descriptions.js';
import { IdLimit, ListLimit, NameLimit, TextLimit, VersionLimit } from '../../graphql/input-limits.js';
import { ConnectionType } from '../../graphql/pagination.js';
import { INCIDENT_LIMITS } from '../domain/incident.decider.js';

const INSTANT = 'Instant (ISO 8601, UTC).';
const EXPECTED_INCIDENT_VERSION =
  "The incident's version (Incident.version) as last read: the link is decided on the incident's stream; when it has moved on, CONCURRENCY_CONFLICT (expectedVersion, actualVersion).";

@ObjectType({ description: 'An incident or fraud at another firm (Art.15(3), 他者における不正、不祥事件), recorded once and cited by the risks and analyses it informs.' })
export class Incident {
  @Field(() => ID, { description: 'Id of the incident; pass it to history(id) for its events (its links included).' }) id!: string;
  @Field(() => Int, { description: 'Revision of the incident\'s stream: 0 when recorded, + 1 for each link or unlink.' }) version!: number;
  @Field({ description: 'Short title.' }) title!: string;
  @Field({ description: 'The firm where it happened.' }) organisation!: string;
  @Field({ description: 'The day it happened (YYYY-MM-DD).' }) occurredOn!: string;
  @Field({ description: 'What happened.' }) description!: string;
  @Field(() => [String], { description: 'Where it is reported (press, notices of the association or a regulator), in the order given.' }) sources!: string[];
  @Field(() => ID, { description: 'User id (JWT sub) of who recorded it.' }) recordedBy!: string;
  @Field({ description: `When it was recorded. ${INSTANT}` }) recordedAt!: string;
  @Field(() => [ID], { description: 'Ids of the risks it is linked to now (at the moment read), in linking order.' }) riskIds!: string[];
}

export const IncidentConnection = ConnectionType(Incident, 'Incident');

@InputType({ description: 'Input of recordIncident (Art.15(3)).' })
export class RecordIncidentInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @NameLimit() @Field({ description: `Short title, 1 to ${INCIDENT_LIMITS.title} characters.` }) title!: string;
  @NameLimit() @Field({ description: `The firm where it happened, 1 to ${INCIDENT_LIMITS.organisation} characters.` }) organisation!: string;
  @TextLimit() @Field({ description: 'The day it happened, YYYY-MM-DD: a real date, not after today in Japan.' }) occurredOn!: string;
  @TextLimit() @Field({ description: `What happened, 1 to ${INCIDENT_LIMITS.description.toLocaleString('en')} characters.` }) description!: string;
  @ListLimit(INCIDENT_LIMITS.sources) @TextLimit() @Field(() => [String], { nullable: true, description: `Where it is reported: at most ${INCIDENT_LIMITS.sources} sources of 1 to ${INCIDENT_LIMITS.source.toLocaleString('en')} characters (repeats are dropped); none when omitted.` }) sources?: string[];
}

@InputType({ description: 'Input of linkIncidentToRisk (Art.15(3)).' })
export class LinkIncidentToRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_INCIDENT_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The incident (Incident.id).' }) incidentId!: string;
  @IdLimit() @Field(() => ID, { description: 'The risk it informs (Risk.id).' }) riskId!: string;
}

@InputType({ description: 'Input of unlinkIncidentFromRisk (Art.15(3)).' })
export class UnlinkIncidentFromRiskInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: EXPECTED_INCIDENT_VERSION }) expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The incident (Incident.id).' }) incidentId!: string;
  @IdLimit() @Field(() => ID, { description: 'The risk it is linked to (Risk.id).' }) riskId!: string;
  @TextLimit() @Field({ description: `Why the link is removed, 1 to ${INCIDENT_LIMITS.reason.toLocaleString('en')} characters (kept in the history).` }) reason!: string;
}
