import { mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertSha256, sha256Of, type EvidenceBlobStore } from '../application/evidence-blobs.js';

/** Blobs in memory (EVENT_STORE=memory: gone with the process, like the log). */
export class MemoryBlobStore implements EvidenceBlobStore {
  readonly description = 'memory';
  /** Under the system's tmp (a cleaner may remove it: the upload service re-creates it before each upload). */
  readonly uploadDir = mkdtempSync(join(tmpdir(), 'risk-ledger-uploads-'));
  private readonly blobs = new Map<string, Buffer>();

  async put(sha256: string, tempPath: string): Promise<void> {
    assertSha256(sha256);
    try {
      const existing = this.blobs.get(sha256);
      if (existing && sha256Of(existing) === sha256) return;
      this.blobs.set(sha256, await readFile(tempPath));
    } finally {
      await rm(tempPath, { force: true });
    }
  }

  async read(sha256: string): Promise<Buffer | null> {
    assertSha256(sha256);
    return this.blobs.get(sha256) ?? null;
  }

  async has(sha256: string): Promise<boolean> {
    return this.blobs.has(sha256);
  }

  async missingOf(sha256s: readonly string[]): Promise<string[]> {
    return sha256s.filter((sha256) => !this.blobs.has(sha256));
  }

  async close(): Promise<void> {
    await rm(this.uploadDir, { recursive: true, force: true });
  }
}
