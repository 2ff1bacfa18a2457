/**
 * How often the write side snapshots an aggregate's state (beside the log, see StreamSnapshot):
 * SNAPSHOT_EVERY events (default 100; 0 turns snapshots off, both taking and using them).
 * Snapshots are an optimisation only: with or without them every answer is the same.
 */
export const DEFAULT_SNAPSHOT_EVERY = 100;

let cached: number | undefined;

/** SNAPSHOT_EVERY, read once (on first use) and checked: a non-negative integer. */
export function snapshotEvery(): number {
  if (cached === undefined) cached = parseSnapshotEvery(process.env.SNAPSHOT_EVERY);
  return cached;
}

export function parseSnapshotEvery(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_SNAPSHOT_EVERY;
  // Digits only, as every number setting (`1e3`, `0x10` and ` 5` were taken: operations probe 10-c L1).
  const n = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`SNAPSHOT_EVERY must be a non-negative integer (0 disables snapshots), got ${JSON.stringify(raw)}`);
  return n;
}

/** Whether going from `fromVersion` to `toVersion` (stream versions: revision of the last event) crossed a multiple of `every` events. */
export function crossedSnapshotPoint(fromVersion: number, toVersion: number, every: number): boolean {
  return every > 0 && Math.floor((toVersion + 1) / every) > Math.floor((fromVersion + 1) / every);
}
