import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReplayDatabase, type ReadDb } from './read-model-database.js';
import { REPLAY_FOLDER_PREFIX, sweepReplayFolders } from './replay-folders.js';
import { StoreUnavailableError } from '../shared/domain/errors.js';
import { isTransientStorageError } from '../shared/application/transient-errors.js';

/** Folders of this process not yet closed: removed when it exits (a replayer nobody closed, in a test or a CLI command). */
const open = new Set<string>();
let exitHook = false;
function removeAtExit(folder: string): void {
  open.add(folder);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const f of open) rmSync(f, { recursive: true, force: true });
  });
}

/**
 * Where asOf replays keep their read models: each replay in a SQLite file of its own, in a
 * folder private to this process (0700, removed by close(); one left by a process that stopped
 * without closing is removed by the next one to open a folder beside it).
 *
 * In memory, the steps of a replay that cannot be cut into slices of the event loop held it
 * for as long as they took, whatever else waited (soak probe of 2026-12-06, M1: a register of
 * 4,564 risks at 113,000 events, images of 14-50 MB): a stored snapshot deserialised (40-150 ms),
 * a cached replay serialised and deserialised as the base of a later one (up to 350 ms), and a
 * replay's snapshot serialised, copied and vacuumed (66-766 ms). With a file, all three are file
 * copies that libuv's threads make while the loop goes on (`copyOf`, `fromFile`, `copy`), and
 * opening a file costs nothing however large it is. A plan document, which replays the register
 * at the plan's submission, held the loop 140-380 ms on that register; see README "Replays in
 * files" for the figures since.
 *
 * The files are scratch: no journal on disk and no sync (a crash loses nothing a replay cannot
 * rebuild), read through a memory map so that queries read pages as fast as from memory.
 */
export class ReplayFiles {
  private folder?: string;
  private next = 0;
  private closed = false;

  /**
   * `parent`: the folder that holds this process's folder (default: the system's temporary
   * folder). `ownsParent`: no other process uses it (DATA_DIR/replays, under the DATA_DIR lock),
   * so every other folder in it is a stopped process's, whatever its pid says.
   */
  constructor(
    private readonly parent: string = tmpdir(),
    private readonly ownsParent = false,
  ) {}

  /** Where this process's replay files are (for messages). */
  get where(): string {
    return this.folder ?? this.parent;
  }

  /**
   * This process's folder, made (and the folders of stopped processes swept) on first use, or by
   * `prepare()` at a server's start; made again if it went missing (removed by hand: every replay
   * not cached failed until a restart, probe of 2026-12-07, M2).
   */
  private dir(): string {
    if (this.closed) throw new Error('ReplayFiles is closed');
    if (this.folder && existsSync(this.folder)) return this.folder;
    mkdirSync(this.parent, { recursive: true, mode: 0o700 });
    if (this.folder) open.delete(this.folder);
    // mkdtemp makes it 0700: a replay holds the register as it stood, for this process only.
    this.folder = mkdtempSync(join(this.parent, `${REPLAY_FOLDER_PREFIX}${process.pid}-`));
    removeAtExit(this.folder);
    sweepReplayFolders(this.parent, this.ownsParent ? this.folder : undefined);
    return this.folder;
  }

  /** Makes the folder now (a server's start: a folder that cannot be made is said then, not at the first asOf). */
  prepare(): void {
    this.dir();
  }

  /**
   * What a replay's failure to use its files (a full disk, a folder that cannot be written) tells
   * the client: STORE_UNAVAILABLE, naming the folder, instead of an internal error; other errors as
   * they are. Every method here says so of its own failures; `writing` for the replay's writes.
   */
  unavailable(error: unknown): unknown {
    // Storage that fails as it may anywhere (transient-errors.ts says which), or any of our file
    // operations (node's system errors name their syscall: a folder that cannot be written), or
    // SQLite unable to open the file. Not a damaged image (SQLITE_NOTADB), nor a bug.
    const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
    const storage = isTransientStorageError(error) || typeof syscall === 'string' || (typeof code === 'string' && code.startsWith('SQLITE_CANTOPEN'));
    if (!storage) return error;
    return new StoreUnavailableError(
      false,
      `A point-in-time replay could not use its scratch files in ${this.where} (${(error as Error).message}): nothing was changed. Retry later; that folder must be writable and have room for about the read models' size per replay`,
    );
  }

  /** `write` (a replay's statements on its database), its storage failures told as `unavailable`. */
  writing<T>(write: () => T): T {
    try {
      return write();
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private path(): string {
    return join(this.dir(), `replay-${this.next++}.sqlite`);
  }

  /** An empty replay database. */
  fresh(): ReadDb {
    return this.writing(() => openReplayDatabase(this.path()));
  }

  /**
   * A copy of a finished replay (read-only since it was finished, `finish`: its file cannot
   * change while it is copied), to go on from where it ends.
   */
  async copyOf(source: ReadDb): Promise<ReadDb> {
    const path = await this.copy(source);
    try {
      return openReplayDatabase(path);
    } catch (error) {
      rmSync(path, { force: true });
      throw this.unavailable(error);
    }
  }

  /**
   * A replay database from a stored snapshot: `fill` writes its image into the file at the path
   * it is given (ReplaySnapshotStore.loadInto), which is then opened; null when it writes nothing.
   */
  async fromFile(fill: (path: string) => Promise<boolean>): Promise<ReadDb | null> {
    const path = this.writing(() => this.path());
    try {
      if (await fill(path)) return openReplayDatabase(path);
      rmSync(path, { force: true });
      return null;
    } catch (error) {
      rmSync(path, { force: true });
      // A damaged image (SQLITE_NOTADB) as it is: the caller forgets that snapshot.
      throw this.unavailable(error);
    }
  }

  /**
   * A copy of a replay database's file as it stands (for a stored snapshot: ReplaySnapshotStore
   * .saveFile takes it). The caller does not write to the database until this resolves (a replay
   * waits for it between two slices).
   */
  async copy(db: ReadDb): Promise<string> {
    const path = this.writing(() => this.path());
    try {
      await copyFile(db.name, path).catch(async (error: unknown) => {
        if (existsSync(db.name)) throw error;
        // Its file removed by hand while it stays open: copied through its connection (SQLite's
        // online backup, a hundred pages per turn of the loop).
        await db.backup(path);
      });
      return path;
    } catch (error) {
      rmSync(path, { force: true });
      throw this.unavailable(error);
    }
  }

  /** A replay is finished: nothing may write to it from now on (its file is copied as the base of later ones). */
  finish(db: ReadDb): void {
    db.pragma('query_only = 1');
  }

  /** Closes a replay database and deletes its file. */
  release(db: ReadDb): void {
    if (db.open) db.close();
    rmSync(db.name, { force: true });
  }

  /** Deletes this process's folder (replays still open keep their files until closed: Unix keeps an unlinked open file). */
  close(): void {
    this.closed = true;
    if (!this.folder) return;
    rmSync(this.folder, { recursive: true, force: true });
    open.delete(this.folder);
  }
}
