import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { IdLimit } from '../../graphql/input-limits.js';
import { StrictDateTime } from '../../graphql/scalars.js';
import { ConnectionType } from '../../graphql/pagination.js';

@ObjectType({ description: 'Whether a log is intact (Art. 31, 34 evidence): every hash recomputed, every per-stream link, the global chain and the signed heads checked, in log order. Answer of verifyIntegrity and verifyAccessLog.' })
export class IntegrityReport {
  @Field({ description: 'True when nothing is wrong: every hash, link and signature checks and the anchor, if any, is found.' }) ok!: boolean;
  @Field(() => Int, { description: 'Events examined (up to and including the first broken one).' }) eventsChecked!: number;
  @Field(() => String, { nullable: true, description: 'Position (opaque ordered string) of the first event at which the log stops being consistent; null when ok.' })
  firstBrokenPosition!: string | null;
  @Field(() => String, { nullable: true, description: 'What is wrong, as a sentence; null when ok.' }) reason!: string | null;
  @Field(() => String, { nullable: true, description: 'Position (opaque ordered string) of the last event examined (the head when ok); null for an empty log.' }) headPosition!: string | null;
  @Field(() => String, {
    nullable: true,
    description:
      'Global chain link of that event: 64 lowercase hex digits (SHA-256). Record it (with headPosition) outside the system: a later verifyIntegrity(anchorPosition, anchorChainHash) proves that nothing up to it was removed or rewritten, which the chain alone cannot.',
  })
  headChainHash!: string | null;
  @Field(() => Int, { description: 'Number of streams seen (1 for the access log).' }) streams!: number;
  @Field(() => Int, {
    description:
      "Signed heads checked against the server's trusted public keys (GET /.well-known/risk-ledger/keys). Every commit's head is signed with an Ed25519 key: an event appended, edited or rehashed by someone without the key is reported at its position.",
  })
  signaturesChecked!: number;
  @Field(() => Boolean, { nullable: true, description: 'With an anchor (given or recorded by the server): whether the log still contains it; null without one.' })
  anchorOk!: boolean | null;
  @Field(() => Int, {
    nullable: true,
    description:
      'Only for verifyAccessLog: requests whose changes are in the event log without an access log entry, committed a few seconds before an unclean stop (SIGKILL, OOM kill, crash) that the access log records (UncleanStopRecovered entry): lost with the process, acknowledged, not failing the check. Null when there are none.',
  })
  acknowledgedUnlogged?: number | null;
  @Field(() => String, { nullable: true, description: 'Only for verifyAccessLog: what was acknowledged and which UncleanStopRecovered entries (entry number, event log position) cover it, as a sentence; null when nothing was.' })
  acknowledgement?: string | null;
}

@ObjectType({ description: 'The result of rebuildProjections: every read model rebuilt from the log.' })
export class RebuildReport {
  @Field(() => Int, { description: 'Number of events replayed.' }) eventsApplied!: number;
  @Field(() => String, { nullable: true, description: 'Log position (opaque ordered string) the read models have reached; null for an empty log.' }) position!: string | null;
  @Field(() => Int, { description: 'How long the rebuild took, in milliseconds.' }) durationMs!: number;
}

@InputType({ description: 'Input of rebuildProjections (ADMIN).' })
export class RebuildProjectionsInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: 'Idempotency key as on every command (1–128 of letters, digits, . _ : -); a rebuild appends nothing, so a retry simply rebuilds again.' })
  commandId?: string | null;
}

export enum AccessOutcome {
  ALLOWED = 'ALLOWED',
  DENIED = 'DENIED',
  FAILED = 'FAILED',
}
registerEnumType(AccessOutcome, {
  name: 'AccessOutcome',
  description: 'How an operation recorded in the access log ended (Art. 23(2)).',
  valuesMap: {
    ALLOWED: { description: 'Answered without error (for a download: HTTP 2xx or 3xx).' },
    DENIED: { description: 'Refused with UNAUTHENTICATED or FORBIDDEN (for a download: HTTP 401 or 403).' },
    FAILED: { description: 'Any other error; errorCode says which.' },
  },
});

@ObjectType('AccessLogEntry', { description: 'One access as the access log recorded it (Art. 23(2)): a GraphQL operation or a download under /documents/ or /evidence/, allowed or not. Append-only, hash-chained and signed; never holds tokens or inputs.' })
export class AccessLogEntryType {
  @Field(() => ID, { description: 'Sequence number in the access log (1, 2, 3…); firstBrokenPosition of verifyAccessLog names one.' }) id!: string;
  @Field(() => StrictDateTime, { description: 'When it was recorded.' }) at!: Date;
  @Field(() => ID, { nullable: true, description: 'User id (JWT sub) of the caller; null when there was no valid token.' }) actorId!: string | null;
  @Field(() => String, { nullable: true, description: 'Name claim of the caller; null when there was no valid token.' }) actorName!: string | null;
  @Field(() => [String], { nullable: true, description: 'Roles claim of the caller, such as AUDITOR or CISO; null when there was no valid token.' }) actorRoles!: string[] | null;
  @Field(() => String, { nullable: true, description: 'Name of the GraphQL operation as sent, or the method and path of a download (GET /documents/controls.md); null for an anonymous operation.' }) operationName!: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'Query, mutation or subscription; http for a request under /documents/ or /evidence/ (operationName is then its method and path); system for an entry the server wrote itself; null when the request could not be parsed.',
  })
  operationType!: string | null;
  @Field(() => [String], { description: 'Root fields of the operation.' }) fields!: string[];
  @Field(() => [String], { description: 'What the request touched, at most 50 ids, each once: first the entity a mutation returned (for a creating mutation, the one it created: registerAsset names the new asset), or the file an upload stored; then the ids named in the arguments, the path or the query (id, assetId, riskId, planId, criteriaId, catalogueId, managerId…). Entries written by earlier builds name only the latter.' }) targetIds!: string[];
  @Field(() => AccessOutcome, { description: 'ALLOWED, DENIED or FAILED.' }) outcome!: AccessOutcome;
  @Field(() => String, { nullable: true, description: 'The error code answered (such as FORBIDDEN, BAD_USER_INPUT, RULE_VIOLATION) or a download\'s HTTP error; null when ALLOWED.' }) errorCode!: string | null;
  @Field(() => String, { nullable: true, description: 'Correlation id of the request (x-correlation-id or generated), also in the metadata of the events it caused.' }) correlationId!: string | null;
  @Field(() => String, { nullable: true, description: 'Only on entries the server wrote itself (a discontinuity acknowledged with ACCESS_LOG_RESET=1): what happened.' })
  note!: string | null;
  @Field(() => String, {
    nullable: true,
    description:
      'Position in the event log of the last event the request committed (opaque ordered string, as RecordedEvent.position); null when it committed none, and on entries written before 2026-12-06. verifyAccessLog reports an entry whose event the event log no longer holds there (the log cut back to an older copy).',
  })
  committedPosition!: string | null;
  @Field(() => ID, { nullable: true, description: 'Id of that event (RecordedEvent.eventId); null with committedPosition.' }) committedEventId!: string | null;
  @Field({ description: 'Hash of the previous entry (of the genesis for the first): 64 lowercase hex digits.' }) prevHash!: string;
  @Field({ description: 'SHA-256 of this entry (its content and prevHash): 64 lowercase hex digits.' }) hash!: string;
}

export const AccessLogConnection = ConnectionType(AccessLogEntryType, 'AccessLog');
