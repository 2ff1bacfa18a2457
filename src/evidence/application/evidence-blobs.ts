/**
 * Where the bytes of evidence files live, by SHA-256 (the log holds their metadata). Adapters:
 * a folder (DATA_DIR/evidence/ with the embedded store, or EVIDENCE_DIR), a PostgreSQL table
 * (several instances share it), memory (the in-memory store). No path is ever built from user
 * input: a blob's only name is its hash.
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

export interface EvidenceBlobStore {
  /** Describes where the blobs are, for logs and the export's manifest (never a secret). */
  readonly description: string;
  /** A folder for uploads in progress (on the same file system as the blobs, for the folder adapter). */
  readonly uploadDir: string;
  /**
   * Takes the upload at `tempPath` (complete, fsynced, hashing to `sha256`) and stores it under its
   * hash. Idempotent and safe under concurrent calls for the same hash; a stored blob whose bytes
   * were damaged is replaced. The temporary file is gone afterwards either way.
   */
  put(sha256: string, tempPath: string, size: number): Promise<void>;
  /** The stored bytes, or null when no blob has that hash. */
  read(sha256: string): Promise<Buffer | null>;
  /** The blob opened for reading, to hash then stream it without holding it in memory (adapters that keep files); null when not stored. */
  openBlob?(sha256: string): Promise<FileHandle | null>;
  /** Whether a blob with that hash is stored (without checking its bytes). */
  has(sha256: string): Promise<boolean>;
  /** Of these hashes, those with no stored blob, in the order given: one look for them all where the store can (PostgreSQL: one query). */
  missingOf(sha256s: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

export const EVIDENCE_BLOBS = Symbol('EVIDENCE_BLOBS');

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function sha256Of(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Refuses anything but a SHA-256 in hex before it can name a file or a row. */
export function assertSha256(sha256: string): void {
  if (!SHA256_HEX.test(sha256)) throw new Error(`not a SHA-256: ${JSON.stringify(sha256).slice(0, 80)}`);
}
