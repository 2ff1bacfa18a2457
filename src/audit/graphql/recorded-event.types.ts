import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { ConnectionType } from '../../graphql/pagination.js';

@ObjectType({ description: 'The authenticated user, as the bearer token names them.' })
export class Actor {
  @Field(() => ID, { description: 'User id: the token\'s sub claim.' }) id!: string;
  @Field({ description: "Display name: the token's name claim." }) name!: string;
  @Field(() => [String], {
    description: 'Role names from the roles claim: ASSET_MANAGER, RISK_OWNER, COMMITTEE_MEMBER, CISO, BOARD_SECRETARY, AUDITOR, ADMIN (Art. 23(1)).',
  })
  roles!: string[];
  @Field(() => String, { nullable: true, description: "The token's department claim: the department an ASSET_MANAGER acts for; null without one." }) department?: string;
}

@ObjectType({ description: 'Who caused an event, as the bearer token named them when the command ran.' })
export class EventActor {
  @Field(() => ID, { description: "User id (JWT sub); the server's own id for reactions it runs itself." }) id!: string;
  @Field({ description: "Display name (JWT name claim)." }) name!: string;
  @Field(() => [String], { description: 'Role names the token carried.' }) roles!: string[];
}

@ObjectType({ description: 'Who did what, when and why: the metadata of a recorded event, covered by its hash.' })
export class EventMetadataType {
  @Field(() => EventActor, { description: 'Who caused the event.' }) actor!: EventActor;
  @Field(() => [String], { description: "The actor's roles when the event was recorded." }) roles!: string[];
  @Field({ description: 'When the command was handled: ISO 8601 date-time in UTC.' }) occurredAt!: string;
  @Field({ description: 'Id of the request (x-correlation-id or generated); shared by every event one request caused, and found in the access log.' }) correlationId!: string;
  @Field({ description: "What caused the command: the client's commandId, a request id, or the id of an earlier event (for reactions)." }) causationId!: string;
  @Field(() => String, { nullable: true, description: "The client's commandId (idempotency key); null when none was given." }) commandId?: string;
  @Field(() => String, { nullable: true, description: 'The command that carried the commandId, such as AnalyseRisk (the key is refused for another command); null without a commandId, and for events recorded before 2026-12-03.' }) commandType?: string;
  @Field(() => String, { nullable: true, description: "The part of the entity the command acted on, where its stream holds several: a plan's item (its risk's id), a risk's control, an incident's link (the risk), an asset's threat (for a vulnerability), a criteria version (its approval). The commandId is refused for the same command on another. Null without a commandId or such a part, and for events recorded before 2026-12-05." }) commandSubject?: string;
  @Field(() => String, { nullable: true, description: "Digest of the client's input without its commandId (SHA-256 of its canonical JSON, the first 128 bits in hex), recorded beside the commandId: the key is refused for the same command with another input. Null without a commandId, and for events recorded before 2026-12-05 evening." }) commandInput?: string;
}

@ObjectType('RecordedEvent', {
  description: 'An event as stored (Art. 31, 34 evidence): immutable, hash-chained to the previous event of its stream and to the global chain, its commit signed.',
})
export class RecordedEventType {
  @Field({ description: 'Opaque, ordered position in the global log: compare as strings, pass as after, atPosition or anchorPosition.' }) position!: string;
  @Field(() => ID, { description: 'Unique id of the event (a UUID).' }) eventId!: string;
  @Field(() => ID, { description: 'The stream it belongs to, such as asset-<id>, risk-<id> or plan-<id>.' }) streamId!: string;
  @Field(() => Int, { description: 'Its place in its stream, from 0, without gaps.' }) revision!: number;
  @Field({ description: 'Event type, such as AssetRegistered or RiskCriteriaApproved.' }) type!: string;
  @Field(() => Int, { description: "Version of the data's shape for this type, from 1." }) schemaVersion!: number;
  @Field(() => GraphQLJSON, { description: 'The event\'s content, as stored (JSON object).' }) data!: unknown;
  @Field(() => EventMetadataType, { description: 'Who, when, and how it was caused.' }) metadata!: EventMetadataType;
  @Field({ description: 'When the store committed it: ISO 8601 date-time in UTC; asOf compares with it.' }) recordedAt!: string;
  @Field({ description: 'Hash of the previous event of its stream (of a genesis for revision 0): 64 lowercase hex digits.' }) prevHash!: string;
  @Field({ description: 'SHA-256 over the event (identity, type, data, metadata, prevHash and, for events written by this build on, recordedAt): 64 lowercase hex digits.' }) hash!: string;
}

export const EventConnection = ConnectionType(RecordedEventType, 'Event');
