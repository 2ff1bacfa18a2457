import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { copyFile, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tablesLeftOutOfReplays, type Projection } from './projection.js';
import type { ReadDb } from './read-model-database.js';
import { sealHolds } from '../shared/application/snapshot-seal.js';

/**
 * Stored snapshots of the replayed read models (issue 13): what a register-wide `asOf` starts
 * from instead of the start of the log. A replay that applies `every` events since its base saves
 * its in-memory read models (SQLite's serialised image) with the event it ends at; a later
 * replay to any moment after that event starts from the newest such snapshot at or before it and
 * applies only the gap. Like the write-side snapshots they are beside the log, never in it:
 * checked against the log before use (the event they end at must still be at its position with
 * its hash), tagged with the read models' shape (projection names and schema versions), kept
 * bounded (`keep`, thinned evenly), and deleting them changes no answer, only its cost.
 */
/** The last event of a replay: where in the log (and in the hash chain) its read models stand. */
export interface ReplayHead {
  position: string;
  recordedAt: string;
  /** The event's hash (per-stream chain). */
  hash: string;
  /** Its link of the global chain, where the store keeps one (SQLite, memory, PostgreSQL). */
  chainHash: string | null;
}

export interface ReplaySnapshotMeta {
  /** The last event applied. */
  head: ReplayHead;
  /** Position of the event before it (null: it was the first of the log): how the head is found again to check it. */
  previousPosition: string | null;
  /** The read models' shape (shapeOf). */
  shape: string;
  /** HMAC-SHA256 of the description and the image under the store's secret (FileReplaySnapshots with a secret). */
  mac?: string;
}

/** Nest token of the process's one ReplaySnapshotStore (the live runner and the replayer share it). */
export const REPLAY_SNAPSHOTS = Symbol('REPLAY_SNAPSHOTS');

export interface ReplaySnapshotStore {
  /** The newest snapshot of this shape whose head `included` accepts and that ends after `after` (a cached base), or null. */
  newest(shape: string, included: (head: ReplayHead) => boolean, after: string | null): ReplaySnapshotMeta | null;
  /** The serialised read models of a snapshot `newest` returned (null: gone meanwhile). */
  load(meta: ReplaySnapshotMeta): Promise<Buffer | null>;
  /**
   * The same image copied into the file `path` (a replay's, replay-files.ts), checked as `load`
   * checks it: false when gone or not sealed (then forgotten). A file store copies file to file
   * and hashes the copy a slice at a time: the image (tens of MB) is never one buffer in memory.
   */
  loadInto(meta: ReplaySnapshotMeta, path: string): Promise<boolean>;
  /**
   * Stores a snapshot; resolves once it is stored (`newest` finds it from then on). Files are
   * written off the event loop: an image is megabytes, and writing it on the loop stalled every
   * request for 7–13 ms each time the live read models were snapshotted (issue 13).
   */
  save(meta: ReplaySnapshotMeta, image: Buffer): Promise<void>;
  /** `save` for an image in the file `path`, which the store takes (moves in, or deletes). */
  saveFile(meta: ReplaySnapshotMeta, path: string): Promise<void>;
  /** Forgets one (it did not match the log). */
  discard(meta: ReplaySnapshotMeta): void;
}

/** The read models' shape: a snapshot taken under other projections or schema versions is never used. */
export function shapeOf(projections: readonly { name: string; schemaVersion: number }[]): string {
  return createHash('sha256')
    .update(projections.map((p) => `${p.name}@${p.schemaVersion}`).join(','))
    .digest('hex')
    .slice(0, 16);
}

/**
 * The serialised image of read models for a stored snapshot, without the projections' history
 * tables (Projection.historyTables: a replay reads the live ones, and they were nine tenths of
 * the bytes); a replay that starts from it creates them again, empty, in setup().
 */
export function snapshotImage(db: ReadDb, projections: readonly Pick<Projection, 'historyTables' | 'liveOnlyTables'>[]): Buffer {
  const image = openableImage(db.serialize());
  const tables = tablesLeftOutOfReplays(projections);
  if (tables.length === 0) return image;
  const copy = new Database(image);
  try {
    for (const table of tables) copy.exec(`DROP TABLE IF EXISTS "${table}"`);
    copy.exec('VACUUM');
    return openableImage(copy.serialize());
  } finally {
    copy.close();
  }
}

/**
 * The image of a database in WAL mode (the live read models' file) says so in its header
 * (bytes 18 and 19, the file format versions, are 2), and an in-memory database opened from it
 * fails at its first statement (SQLITE_CANTOPEN): it cannot have a WAL. The same bytes marked 1
 * (rollback journal) are the same database. Without this, every snapshot the live projections
 * stored was found "damaged" and thrown away when a replay tried to start from it.
 */
export function openableImage(image: Buffer): Buffer {
  if (image.length >= 100 && image[18] === 2 && image[19] === 2) {
    image[18] = 1;
    image[19] = 1;
  }
  return image;
}

/** A position as a number for spacing (SQLite and PostgreSQL: the decimal; KurrentDB: its commit part). */
function positionNumber(position: string): number {
  const digits = position.split('-')[0] ?? '';
  return /^\d+$/.test(digits) ? Number(digits) : 0;
}

/** Which of the sorted positions to drop so that `keep` remain, spread as evenly as possible: the one with the closest neighbours. */
function thinned<T>(entries: T[], keep: number, position: (e: T) => string): T[] {
  const kept = [...entries].sort((a, b) => (position(a) < position(b) ? -1 : 1));
  const dropped: T[] = [];
  while (kept.length > Math.max(keep, 2)) {
    // Never the newest (the most useful for recent moments); the oldest goes last.
    let victim = 1;
    let smallest = Infinity;
    for (let i = 1; i < kept.length - 1; i++) {
      const gap = positionNumber(position(kept[i + 1]!)) - positionNumber(position(kept[i - 1]!));
      if (gap < smallest) {
        smallest = gap;
        victim = i;
      }
    }
    dropped.push(...kept.splice(victim, 1));
  }
  return dropped;
}

/**
 * Bytes of an image hashed per turn of the event loop: 1 MB, ~5 ms of HMAC-SHA256 here. It was
 * 4 MB, meant as ~10 ms, and measured 20-81 ms a turn on a shared machine while a plan document
 * opened the soak's 50 MB images (2026-12-07).
 */
const SEAL_SLICE = 1024 * 1024;

/** Snapshots as files in a folder of local state (DATA_DIR/replay-snapshots): `<position>.<shape>.sqlite` and its `.json`. */
export class FileReplaySnapshots implements ReplaySnapshotStore {
  private index: ReplaySnapshotMeta[] | null = null;
  /** Snapshots being written (`shape:position`): a second save of one of them is a no-op. */
  private readonly writing = new Set<string>();

  /**
   * `secret` (the signing key's derived secret): each snapshot is sealed with an HMAC of its
   * description and image, and one that does not match (edited, or written without the key) is
   * never loaded. An image is what an auditor's past answer is computed from, and the log's hashes
   * do not cover it: a title edited in one was served as history while verifyIntegrity said ok.
   */
  constructor(
    private readonly dir: string,
    private readonly keep = 16,
    private readonly secret?: Buffer,
  ) {}

  /**
   * The seal of a snapshot: its description (without the seal) and its image, hashed a slice per
   * turn of the event loop. An image of a register of 15,000 risks is tens of megabytes: read and
   * sealed in one task, loading it held every request (with the copy, 0.3-1.2 s: probe p10).
   */
  private async seal(meta: ReplaySnapshotMeta, image: Buffer): Promise<string> {
    const hmac = this.sealing(meta);
    for (let at = 0; at < image.length; at += SEAL_SLICE) {
      if (at > 0) await nextTurn();
      hmac.update(image.subarray(at, at + SEAL_SLICE));
    }
    return hmac.digest('hex');
  }

  /** `seal` of the image in a file, read a slice at a time (each read lets the loop turn). */
  private async sealFile(meta: ReplaySnapshotMeta, path: string): Promise<string> {
    const hmac = this.sealing(meta);
    const file = await open(path, 'r');
    try {
      const slice = Buffer.alloc(SEAL_SLICE);
      for (let read: number; (read = (await file.read(slice, 0, SEAL_SLICE, null)).bytesRead) > 0; ) hmac.update(slice.subarray(0, read));
    } finally {
      await file.close();
    }
    return hmac.digest('hex');
  }

  private sealing(meta: ReplaySnapshotMeta) {
    const { mac: _mac, ...described } = meta;
    return createHmac('sha256', this.secret!).update(JSON.stringify([described.head, described.previousPosition, described.shape]));
  }

  private entries(): ReplaySnapshotMeta[] {
    if (this.index) return this.index;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const found: ReplaySnapshotMeta[] = [];
    for (const name of readdirSync(this.dir)) {
      // A write cut short (the process stopped): never described, so never used.
      if (name.endsWith('.tmp')) rmSync(join(this.dir, name), { force: true });
      if (!name.endsWith('.json')) continue;
      try {
        const meta = JSON.parse(readFileSync(join(this.dir, name), 'utf8')) as ReplaySnapshotMeta;
        if (typeof meta?.head?.position === 'string' && typeof meta.shape === 'string') found.push(meta);
      } catch {
        // A half-written or damaged description: the snapshot is simply not used.
      }
    }
    return (this.index = found);
  }

  private base(meta: ReplaySnapshotMeta): string {
    // Positions are digits (and '-'), shapes hex: nothing from outside builds this name.
    return join(this.dir, `${meta.head.position.replace(/[^0-9-]/g, '')}.${meta.shape.replace(/[^0-9a-f]/g, '')}`);
  }

  newest(shape: string, included: (head: ReplayHead) => boolean, after: string | null): ReplaySnapshotMeta | null {
    let best: ReplaySnapshotMeta | null = null;
    for (const m of this.entries()) {
      if (m.shape !== shape || !included(m.head) || (after !== null && m.head.position <= after)) continue;
      if (!best || m.head.position > best.head.position) best = m;
    }
    return best;
  }

  async load(meta: ReplaySnapshotMeta): Promise<Buffer | null> {
    try {
      const image = await readFile(`${this.base(meta)}.sqlite`);
      if (this.secret && !sealHolds(meta.mac, await this.seal(meta, image))) throw new Error('not sealed by this key');
      return image;
    } catch {
      // Missing, unreadable, edited or unsealed: not used, and not kept (the replay goes from further back).
      this.discard(meta);
      return null;
    }
  }

  async loadInto(meta: ReplaySnapshotMeta, path: string): Promise<boolean> {
    const image = `${this.base(meta)}.sqlite`;
    try {
      await copyFile(image, path);
      // The copy is checked: what is opened is what was hashed.
      if (!this.secret || sealHolds(meta.mac, await this.sealFile(meta, path))) return true;
    } catch (error) {
      // Gone meanwhile: forgotten. Anything else (the copy could not be written: a full disk) is
      // the caller's failure, and the snapshot stays.
      await rm(path, { force: true });
      if (existsSync(image)) throw error;
    }
    // Edited, or written without the key: never used, and not kept.
    await rm(path, { force: true });
    this.discard(meta);
    return false;
  }

  async save(meta: ReplaySnapshotMeta, image: Buffer): Promise<void> {
    await this.store(meta, (m) => this.seal(m, image), (tmp) => writeFile(tmp, image));
  }

  async saveFile(meta: ReplaySnapshotMeta, path: string): Promise<void> {
    try {
      await this.store(meta, (m) => this.sealFile(m, path), (tmp) => rename(path, tmp).catch(() => copyFile(path, tmp)));
    } finally {
      await rm(path, { force: true });
    }
  }

  /** Seals (with a secret) and writes a snapshot: its image by `write(tmp)`, then its description. */
  private async store(meta: ReplaySnapshotMeta, seal: (meta: ReplaySnapshotMeta) => Promise<string>, write: (tmp: string) => Promise<unknown>): Promise<void> {
    const key = `${meta.shape}:${meta.head.position}`;
    if (this.entries().some((m) => m.shape === meta.shape && m.head.position === meta.head.position) || this.writing.has(key)) return;
    this.writing.add(key);
    const base = this.base(meta);
    try {
      if (this.secret) meta = { ...meta, mac: await seal(meta) };
      // The image first, then its description: a description always has its whole image.
      await write(`${base}.sqlite.tmp`);
      await rename(`${base}.sqlite.tmp`, `${base}.sqlite`);
      await writeFile(`${base}.json.tmp`, JSON.stringify(meta));
      await rename(`${base}.json.tmp`, `${base}.json`);
    } catch (error) {
      // Disk full, say: no image is left behind without its description (nothing would remove it).
      for (const leftover of ['.sqlite.tmp', '.sqlite', '.json.tmp']) rmSync(`${base}${leftover}`, { force: true });
      throw error;
    } finally {
      this.writing.delete(key);
    }
    const entries = this.entries();
    entries.push(meta);
    for (const old of thinned(entries.filter((m) => m.shape === meta.shape), this.keep, (m) => m.head.position)) this.discard(old);
    // Snapshots of another shape are of no use to this build.
    for (const other of entries.filter((m) => m.shape !== meta.shape)) this.discard(other);
  }

  discard(meta: ReplaySnapshotMeta): void {
    const base = this.base(meta);
    rmSync(`${base}.json`, { force: true });
    rmSync(`${base}.sqlite`, { force: true });
    if (this.index) this.index = this.index.filter((m) => m !== meta && !(m.shape === meta.shape && m.head.position === meta.head.position));
  }
}

/** The same in memory (the in-memory store, tests). */
export class MemoryReplaySnapshots implements ReplaySnapshotStore {
  private readonly entries = new Map<string, { meta: ReplaySnapshotMeta; image: Buffer }>();

  constructor(private readonly keep = 16) {}

  newest(shape: string, included: (head: ReplayHead) => boolean, after: string | null): ReplaySnapshotMeta | null {
    let best: ReplaySnapshotMeta | null = null;
    for (const { meta: m } of this.entries.values()) {
      if (m.shape !== shape || !included(m.head) || (after !== null && m.head.position <= after)) continue;
      if (!best || m.head.position > best.head.position) best = m;
    }
    return best;
  }

  async load(meta: ReplaySnapshotMeta): Promise<Buffer | null> {
    return this.entries.get(`${meta.shape}:${meta.head.position}`)?.image ?? null;
  }

  async loadInto(meta: ReplaySnapshotMeta, path: string): Promise<boolean> {
    const image = await this.load(meta);
    if (image) await writeFile(path, image, { mode: 0o600 });
    return image !== null;
  }

  async saveFile(meta: ReplaySnapshotMeta, path: string): Promise<void> {
    try {
      await this.save(meta, await readFile(path));
    } finally {
      await rm(path, { force: true });
    }
  }

  async save(meta: ReplaySnapshotMeta, image: Buffer): Promise<void> {
    this.entries.set(`${meta.shape}:${meta.head.position}`, { meta, image });
    const same = [...this.entries.values()].filter((e) => e.meta.shape === meta.shape);
    for (const old of thinned(same, this.keep, (e) => e.meta.head.position)) this.discard(old.meta);
  }

  discard(meta: ReplaySnapshotMeta): void {
    this.entries.delete(`${meta.shape}:${meta.head.position}`);
  }

  get size(): number {
    return this.entries.size;
  }
}
