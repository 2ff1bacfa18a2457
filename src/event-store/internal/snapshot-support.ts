/**
 * Validation shared by the adapters' snapshot storage (see StreamSnapshot in the port).
 * Snapshots live beside the log: they are never events, never hashed, never exported.
 */
import type { ReadSnapshotOptions, StreamSnapshot } from '../event-store.port.js';
import { InvalidAppendError } from '../errors.js';
import { normaliseCount, validateStreamId } from './append-support.js';

/** A snapshot ready to store: checked, with its state as JSON text. */
export interface PreparedSnapshot {
  streamId: string;
  revision: number;
  position: string;
  recordedAt: string;
  stateVersion: string;
  stateJson: string;
}

export function validateStateVersion(stateVersion: unknown): asserts stateVersion is string {
  if (typeof stateVersion !== 'string' || stateVersion.length === 0) throw new InvalidAppendError('stateVersion must be a non-empty string');
}

export function prepareSnapshot(s: StreamSnapshot): PreparedSnapshot {
  if (!s || typeof s !== 'object') throw new InvalidAppendError('snapshot must be an object');
  validateStreamId(s.streamId);
  validateStateVersion(s.stateVersion);
  if (!Number.isSafeInteger(s.revision) || s.revision < 0) throw new InvalidAppendError('snapshot revision must be a non-negative integer');
  if (typeof s.position !== 'string' || s.position.length === 0) throw new InvalidAppendError('snapshot position must be a non-empty string');
  if (typeof s.recordedAt !== 'string') throw new InvalidAppendError('snapshot recordedAt must be a string');
  if (s.stateJson !== undefined && typeof s.stateJson !== 'string') throw new InvalidAppendError('snapshot stateJson must be a string');
  const stateJson = s.stateJson ?? JSON.stringify(s.state);
  if (stateJson === undefined) throw new InvalidAppendError('snapshot state must be JSON-serialisable');
  return { streamId: s.streamId, revision: s.revision, position: s.position, recordedAt: s.recordedAt, stateVersion: s.stateVersion, stateJson };
}

/** The checked arguments of readSnapshot. */
export function snapshotQuery(
  streamId: string,
  stateVersion: string,
  options: ReadSnapshotOptions = {},
): { maxRevision: number; maxPosition: string | null; maxRecordedAt: string | null } {
  validateStreamId(streamId);
  validateStateVersion(stateVersion);
  for (const key of ['maxPosition', 'maxRecordedAt'] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'string' || v.length === 0)) throw new InvalidAppendError(`${key} must be a non-empty string`);
  }
  return {
    maxRevision: normaliseCount(options.maxRevision, Number.MAX_SAFE_INTEGER, 'maxRevision'),
    maxPosition: options.maxPosition ?? null,
    maxRecordedAt: options.maxRecordedAt ?? null,
  };
}

/** Whether a stored snapshot satisfies the query (the in-memory adapter's filter; SQL adapters say the same in SQL). */
export function snapshotMatches(s: Pick<PreparedSnapshot, 'revision' | 'position' | 'recordedAt'>, q: ReturnType<typeof snapshotQuery>): boolean {
  return s.revision <= q.maxRevision && (q.maxPosition === null || s.position <= q.maxPosition) && (q.maxRecordedAt === null || s.recordedAt <= q.maxRecordedAt);
}

export function toSnapshot(p: PreparedSnapshot): StreamSnapshot {
  return { streamId: p.streamId, revision: p.revision, position: p.position, recordedAt: p.recordedAt, stateVersion: p.stateVersion, state: JSON.parse(p.stateJson) as unknown, stateJson: p.stateJson };
}
