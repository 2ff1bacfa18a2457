import { Inject } from '@nestjs/common';
import { StrictDateTime } from '../../graphql/scalars.js';
import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { AFTER_DESCRIPTION, FIRST_DESCRIPTION } from '../../graphql/descriptions.js';
import { decodeSeqCursor, encodeCursor, pageSize, toConnection } from '../../graphql/pagination.js';
import { BadInputError } from '../../shared/domain/errors.js';
import { ACCESS_LOG, type AccessLogEntry, type AccessLog } from '../application/access-log.js';
import { AccessLogConnection, AccessOutcome, type AccessLogEntryType } from './audit.types.js';

const CURSOR_TAG = 'access';

@Resolver()
export class AccessLogResolver {
  constructor(@Inject(ACCESS_LOG) private readonly log: AccessLog) {}

  @Query(() => AccessLogConnection, {
    description:
      'Art.23(2): the access log, oldest first: every GraphQL operation and every download under /documents/ and /evidence/, allowed, denied or failed. AUDITOR or CISO. ' +
      'Filters combine; totalCount is null. Errors: UNAUTHENTICATED; FORBIDDEN (another role); BAD_USER_INPUT (first, after, from, to).',
  })
  async accessLog(
    @Args('first', { type: () => Int, nullable: true, description: FIRST_DESCRIPTION }) first?: number | null,
    @Args('after', { type: () => String, nullable: true, description: AFTER_DESCRIPTION }) after?: string | null,
    @Args('actorId', { type: () => ID, nullable: true, description: 'Only the entries of this user id (JWT sub).' }) actorId?: string | null,
    @Args('outcome', { type: () => AccessOutcome, nullable: true, description: 'Only the entries with this outcome.' }) outcome?: AccessOutcome | null,
    @Args('from', { type: () => StrictDateTime, nullable: true, description: 'Only the entries recorded at or after this instant (ISO 8601).' }) from?: Date | null,
    @Args('to', { type: () => StrictDateTime, nullable: true, description: 'Only the entries recorded before this instant (ISO 8601, exclusive).' }) to?: Date | null,
  ) {
    const limit = pageSize(first);
    const afterSeq = decodeSeqCursor(CURSOR_TAG, after);
    const fields: Record<string, string> = {};
    if (from && Number.isNaN(from.getTime())) fields.from = 'is not a date-time';
    if (to && Number.isNaN(to.getTime())) fields.to = 'is not a date-time';
    if (Object.keys(fields).length) throw new BadInputError(fields);
    const rows = await this.log.page({
      afterSeq,
      limit: limit + 1,
      actorId,
      outcome,
      from: from ? from.toISOString() : null,
      to: to ? to.toISOString() : null,
    });
    return toConnection(rows, limit, null, (r) => encodeCursor(CURSOR_TAG, r.seq), toNode, after);
  }
}

function toNode(e: AccessLogEntry): AccessLogEntryType {
  return {
    id: String(e.seq),
    at: new Date(e.at),
    actorId: e.actorId,
    actorName: e.actorName,
    actorRoles: e.actorRoles,
    operationName: e.operationName,
    operationType: e.operationType,
    fields: e.fields,
    targetIds: e.targetIds,
    outcome: e.outcome as AccessOutcome,
    errorCode: e.errorCode,
    correlationId: e.correlationId,
    note: e.note ?? null,
    committedPosition: e.committed?.position ?? null,
    committedEventId: e.committed?.eventId ?? null,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}
