import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * How long an upload's `.part` file may go unwritten before it counts as abandoned. A live upload
 * writes as its bytes arrive and is dropped after 30 s without any (EvidenceController's idle
 * limit); once received it is fsynced and handed to the blob store within seconds. An hour leaves
 * room for a slow disk or database and a clock that steps.
 */
export const ABANDONED_UPLOAD_MS = 60 * 60_000;

/**
 * Makes the uploads folder (this user's only) and removes the `.part` files that a crash left
 * behind, nothing will ever finish them. Only abandoned ones: other processes open the same folder
 * while uploads are in flight (the CLI's export, verify-store, backup and import beside a running
 * server; instances sharing EVIDENCE_DIR), and removing a live upload's file answered that upload
 * 500 (2026-12-07: an upload in flight during `risk-ledger export` failed with ENOENT).
 */
export async function prepareUploadFolder(dir: string, now = Date.now()): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (const name of await readdir(dir)) {
    if (!name.endsWith('.part')) continue;
    const path = join(dir, name);
    const modified = await stat(path).then((s) => s.mtimeMs, () => null); // gone meanwhile: finished by its owner
    if (modified !== null && now - modified > ABANDONED_UPLOAD_MS) await rm(path, { force: true });
  }
}
