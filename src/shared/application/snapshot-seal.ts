import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Seals for what the server keeps beside the log to go faster (stream snapshots in the event
 * store, the read models' replay snapshots in DATA_DIR): an HMAC-SHA256 under a secret derived
 * from the signing key (ChainSigner.derivedSecret). The log is tamper-evident, but these copies
 * of states folded from it were trusted as read: a `snapshots` row edited with SQL let a
 * non-owner record a control's progress and made `plan(id, asOf)` show a forged resolution,
 * with every verifier saying OK (insider probe p14). A seal that does not hold makes the reader
 * fold the log instead: same answer, slower.
 */
export function seal(secret: Buffer, parts: readonly (string | number)[]): string {
  return createHmac('sha256', secret).update(JSON.stringify(parts)).digest('hex');
}

/** Whether `found` is the seal `expected` (compared in constant time). */
export function sealHolds(found: unknown, expected: string): boolean {
  return typeof found === 'string' && found.length === expected.length && timingSafeEqual(Buffer.from(found, 'hex'), Buffer.from(expected, 'hex'));
}

/** How a stream snapshot is stored when sealed: the state and its seal. */
export interface SealedState {
  sealed: 'v1';
  mac: string;
  state: unknown;
}

/** What a stream snapshot's seal covers: where it stands in the log, and the state as JSON. */
export function streamSnapshotSeal(secret: Buffer, s: { streamId: string; stateVersion: string; revision: number; position: string }, state: unknown): string {
  return seal(secret, ['risk-ledger/stream-snapshot/v1', s.streamId, s.stateVersion, s.revision, s.position, JSON.stringify(state) ?? 'null']);
}
