import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openReplayDatabase, type ReadDb } from './read-model-database.js';
import { REPLAY_FOLDER_PREFIX, sweepReplayFolders } from './replay-folders.js';

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
 * copies that libuv's threads make while the loop goes on (`copyOf`, `fromImage`, `image`), and
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

  /** `parent`: the folder that holds this process's folder (default: the system's temporary folder). */
  constructor(private readonly parent: string = tmpdir()) {}

  /** This process's folder, made (and the folders of stopped processes swept) on first use. */
  private dir(): string {
    if (this.closed) throw new Error('ReplayFiles is closed');
    if (this.folder) return this.folder;
    mkdirSync(this.parent, { recursive: true, mode: 0o700 });
    sweepReplayFolders(this.parent);
    // mkdtemp makes it 0700: a replay holds the register as it stood, for this process only.
    this.folder = mkdtempSync(join(this.parent, `${REPLAY_FOLDER_PREFIX}${process.pid}-`));
    removeAtExit(this.folder);
    return this.folder;
  }

  private path(): string {
    return join(this.dir(), `replay-${this.next++}.sqlite`);
  }

  /** An empty replay database. */
  fresh(): ReadDb {
    return openReplayDatabase(this.path());
  }

  /**
   * A copy of a finished replay (read-only since it was finished, `finish`: its file cannot
   * change while it is copied), to go on from where it ends.
   */
  async copyOf(source: ReadDb): Promise<ReadDb> {
    const path = this.path();
    try {
      await copyFile(source.name, path);
      return openReplayDatabase(path);
    } catch (error) {
      rmSync(path, { force: true });
      throw error;
    }
  }

  /** A replay database from a stored snapshot's image (written to a file, then opened). */
  async fromImage(image: Uint8Array): Promise<ReadDb> {
    const path = this.path();
    try {
      await writeFile(path, image, { mode: 0o600 });
      return openReplayDatabase(path);
    } catch (error) {
      rmSync(path, { force: true });
      throw error;
    }
  }

  /**
   * The image of a replay database as it stands, for a stored snapshot: its file's bytes. The
   * caller does not write to it until this resolves (a replay waits for it between two slices).
   */
  image(db: ReadDb): Promise<Buffer> {
    return readFile(db.name);
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
