import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdLimit } from '../../graphql/input-limits.js';
import { StrictDateTime } from '../../graphql/scalars.js';
import { ConnectionType } from '../../graphql/pagination.js';

@ObjectType({ description: 'Whether the log is intact: every hash recomputed, every per-stream link and the global chain checked, in log order.' })
export class IntegrityReport {
  @Field() ok!: boolean;
  @Field(() => Int, { description: 'Events examined (up to and including the first broken one).' }) eventsChecked!: number;
  @Field(() => String, { nullable: true, description: 'Position of the first event at which the log stops being consistent.' })
  firstBrokenPosition!: string | null;
  @Field(() => String, { nullable: true, description: 'What is wrong, as a sentence.' }) reason!: string | null;
  @Field(() => String, { nullable: true, description: 'Position of the last event examined (the head when ok).' }) headPosition!: string | null;
  @Field(() => String, {
    nullable: true,
    description:
      'Global chain link of that event. Record it (with headPosition) outside the system: a later verifyIntegrity(anchorPosition, anchorChainHash) proves that nothing up to it was removed or rewritten, which the chain alone cannot.',
  })
  headChainHash!: string | null;
  @Field(() => Int, { description: 'Streams seen.' }) streams!: number;
  @Field(() => Int, {
    description:
      "Signed heads checked against the server's trusted public keys (GET /.well-known/risk-ledger/keys). Every commit's head is signed with an Ed25519 key: an event appended, edited or rehashed by someone without the key is reported at its position.",
  })
  signaturesChecked!: number;
  @Field(() => Boolean, { nullable: true, description: 'With an anchor: whether the log still contains it (null without one).' })
  anchorOk!: boolean | null;
}

@ObjectType({ description: 'The result of rebuilding every read model from the log.' })
export class RebuildReport {
  @Field(() => Int) eventsApplied!: number;
  @Field(() => String, { nullable: true, description: 'Log position the read models have reached.' }) position!: string | null;
  @Field(() => Int) durationMs!: number;
}

@InputType()
export class RebuildProjectionsInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: 'Accepted like on every command; a rebuild appends nothing, so a retry simply rebuilds again.' })
  commandId?: string | null;
}

export enum AccessOutcome {
  ALLOWED = 'ALLOWED',
  DENIED = 'DENIED',
  FAILED = 'FAILED',
}
registerEnumType(AccessOutcome, {
  name: 'AccessOutcome',
  description: 'ALLOWED: answered without error; DENIED: UNAUTHENTICATED or FORBIDDEN; FAILED: any other error (errorCode says which).',
});

@ObjectType('AccessLogEntry', { description: 'One GraphQL operation as the access log recorded it (Art.23(2)). Append-only, hash-chained.' })
export class AccessLogEntryType {
  @Field(() => ID, { description: 'Sequence number in the access log.' }) id!: string;
  @Field(() => StrictDateTime) at!: Date;
  @Field(() => ID, { nullable: true, description: 'null: no valid token.' }) actorId!: string | null;
  @Field(() => String, { nullable: true }) actorName!: string | null;
  @Field(() => [String], { nullable: true }) actorRoles!: string[] | null;
  @Field(() => String, { nullable: true }) operationName!: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'query, mutation or subscription; http for a request under /documents/ or /evidence/ (operationName is then its method and path); system for an entry the server wrote itself; null when the request could not be parsed.',
  })
  operationType!: string | null;
  @Field(() => [String], { description: 'Root fields of the operation.' }) fields!: string[];
  @Field(() => [String], { description: 'Ids named in the arguments (id, assetId, riskId, planId, criteriaId, catalogueId...).' }) targetIds!: string[];
  @Field(() => AccessOutcome) outcome!: AccessOutcome;
  @Field(() => String, { nullable: true }) errorCode!: string | null;
  @Field(() => String, { nullable: true }) correlationId!: string | null;
  @Field(() => String, { nullable: true, description: 'Only on entries the server wrote itself (a discontinuity acknowledged with ACCESS_LOG_RESET=1): what happened.' })
  note!: string | null;
  @Field({ description: 'Hash of the previous entry.' }) prevHash!: string;
  @Field({ description: 'Hash of this entry (its content and prevHash).' }) hash!: string;
}

export const AccessLogConnection = ConnectionType(AccessLogEntryType, 'AccessLog');
