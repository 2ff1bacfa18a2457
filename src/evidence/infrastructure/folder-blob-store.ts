import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { syncDirectory } from '../../shared/application/durable-files.js';
import { assertSha256, type EvidenceBlobStore } from '../application/evidence-blobs.js';
import { assertPathsWritable, type WriteAccessCheck } from '../../shared/application/writable-paths.js';
import { prepareUploadFolder } from './upload-folder.js';

/**
 * Blobs as files `<root>/ab/abcdef…` (the first two hex digits shard the folder). An upload is
 * written under `<root>/.uploads/`, fsynced, then renamed onto its hash's name (atomic; the folder
 * is fsynced after), so a crash leaves either no blob or a whole one. Concurrent uploads of the
 * same file rename the same bytes onto the same name: whichever lands last, the blob is whole.
 */
export class FolderBlobStore implements EvidenceBlobStore {
  readonly uploadDir: string;

  constructor(private readonly root: string) {
    this.uploadDir = join(root, '.uploads');
  }

  get description(): string {
    return `folder ${this.root}`;
  }

  async init(): Promise<this> {
    await prepareUploadFolder(this.uploadDir);
    return this;
  }

  /**
   * The server's start: the folder and its uploads folder must be writable by this process (a
   * folder left root-owned answered every upload 500, re-probe 10 H1). Not in init: the CLI's
   * export only reads.
   */
  assertFoldersWritable(check?: WriteAccessCheck): void {
    assertPathsWritable([{ path: this.root, what: 'the evidence folder (EVIDENCE_DIR or DATA_DIR/evidence)' }, { path: this.uploadDir, what: "the evidence folder's uploads" }], check);
  }

  pathOf(sha256: string): string {
    assertSha256(sha256);
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  async put(sha256: string, tempPath: string): Promise<void> {
    const target = this.pathOf(sha256);
    try {
      if ((await this.hashOfFile(target)) === sha256) return; // already stored, intact
      const dir = join(this.root, sha256.slice(0, 2));
      const created = await mkdir(dir, { recursive: true, mode: 0o700 }); // the register's evidence, for this user only (as DATA_DIR)
      await rename(tempPath, target);
      await syncDirectory(dir);
      // A new shard folder is itself an entry of the root: without this a crash could lose it, blob and all.
      if (created !== undefined) await syncDirectory(this.root);
    } finally {
      await rm(tempPath, { force: true });
    }
  }

  async read(sha256: string): Promise<Buffer | null> {
    try {
      return await readFile(this.pathOf(sha256));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** The blob opened for reading (to hash, then stream, without holding it in memory), or null when not stored. */
  async openBlob(sha256: string): Promise<FileHandle | null> {
    try {
      return await open(this.pathOf(sha256), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async has(sha256: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(sha256))).isFile();
    } catch {
      return false;
    }
  }

  async missingOf(sha256s: readonly string[]): Promise<string[]> {
    const present = await Promise.all(sha256s.map((sha256) => this.has(sha256)));
    return sha256s.filter((_, i) => !present[i]);
  }

  async close(): Promise<void> {}

  private async hashOfFile(path: string): Promise<string | null> {
    const hash = createHash('sha256');
    try {
      for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return hash.digest('hex');
  }
}

