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
/** Whether `found` is the seal `expected` (compared in constant time). */
export function sealHolds(found: unknown, expected: string): boolean {
  return typeof found === 'string' && found.length === expected.length && timingSafeEqual(Buffer.from(found, 'hex'), Buffer.from(expected, 'hex'));
}

/** The HMAC of `parts`, each fed with its length before it (no part can pass for two, and no text is escaped again). */
function macOf(secret: Buffer, parts: readonly string[]): string {
  const hmac = createHmac('sha256', secret);
  for (const part of parts) hmac.update(`${part.length}:`).update(part);
  return hmac.digest('hex');
}

/** Where a stream snapshot stands in the log: what its seal binds the state to. */
export interface SnapshotPlace {
  streamId: string;
  stateVersion: string;
  revision: number;
  position: string;
}

// A sealed stream snapshot is stored as this text around the state's JSON: the seal is made over
// the state's text as written, once, and checked over the same bytes as read (no second
// stringify of the state on either side).
const V2_HEAD = '{"sealed":"v2","mac":"';
const V2_MIDDLE = '","state":';
const MAC_LENGTH = 64;

function streamSnapshotMac(secret: Buffer, at: SnapshotPlace, stateJson: string): string {
  return macOf(secret, ['risk-ledger/stream-snapshot/v2', at.streamId, at.stateVersion, String(at.revision), at.position, stateJson]);
}

/** The stored text of a sealed stream snapshot of `state` at `at`. */
export function sealedStreamSnapshot(secret: Buffer, at: SnapshotPlace, state: unknown): string {
  const stateJson = JSON.stringify(state) ?? 'null';
  return `${V2_HEAD}${streamSnapshotMac(secret, at, stateJson)}${V2_MIDDLE}${stateJson}}`;
}

/**
 * The state of a stored stream snapshot whose seal holds for `at`, or undefined: `stored` is the
 * text as read, `parsed` the adapter's parse of it. (Snapshots of the first seal, v1, were stored
 * under the bare state version, which this build no longer reads: each stream is folded once.)
 */
export function openSealedStreamSnapshot(secret: Buffer, at: SnapshotPlace, stored: string, parsed: unknown): { state: unknown } | undefined {
  if (parsed === null || typeof parsed !== 'object' || !('state' in parsed) || (parsed as { sealed?: unknown }).sealed !== 'v2') return undefined;
  // The exact layout written above; any other text (edited, even to the same values) is not ours.
  const stateStart = V2_HEAD.length + MAC_LENGTH + V2_MIDDLE.length;
  if (!stored.startsWith(V2_HEAD) || stored.slice(V2_HEAD.length + MAC_LENGTH, stateStart) !== V2_MIDDLE || !stored.endsWith('}')) return undefined;
  const stateJson = stored.slice(stateStart, -1);
  // A seal that holds proves stateJson was one JSON value written here, so `state` is its parse.
  const { state } = parsed as { state: unknown };
  return sealHolds(stored.slice(V2_HEAD.length, V2_HEAD.length + MAC_LENGTH), streamSnapshotMac(secret, at, stateJson)) ? { state } : undefined;
}
