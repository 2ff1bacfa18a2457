/**
 * The evidence files in an export: every file the log cites by SHA-256 (EvidenceFileStored,
 * EvidenceAttached, and the `evidence` entries of other events such as ControlProgressRecorded)
 * is written beside the NDJSON as FILE.evidence/<sha256> and listed in the manifest; the offline
 * verification recomputes each hash. The log's events are hashed and signed, so the hashes they
 * cite are the reference: a file altered, swapped or removed after export is reported by name.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import type { RecordedEvent } from '../../event-store/event-store.port.js';
import { citedEvidence } from '../../evidence/domain/evidence.events.js';
import { sha256Of, type EvidenceBlobStore } from '../../evidence/application/evidence-blobs.js';
import { syncDirectory, syncFile, writeFileDurably } from '../../shared/application/durable-files.js';

export interface ExportedEvidenceFiles {
  /** Folder beside the export, relative to it. */
  dir: string;
  /** The files written, by SHA-256 (their names in the folder). */
  files: { sha256: string; size: number }[];
  /** Files the log cites that the store could not give intact at export time. */
  missing: string[];
}

export function evidenceDirFor(file: string): string {
  return `${file}.evidence`;
}

/**
 * Where an export's companion (its signatures file, its evidence folder) is read from: under the
 * name FILE's own name gives it when it is there (an export renamed as a whole, `a.ndjson` and its
 * companions to `audit-2026.ndjson…`, was called BROKEN: new-user probe of 2026-12-05, 1), else
 * under the name its manifest recorded at export time. Either is checked against the manifest's
 * hashes, so a name proves nothing by itself.
 */
export function companionPath(file: string, ownName: string, recordedName: string | undefined): string {
  if (existsSync(ownName) || recordedName === undefined) return ownName;
  const recorded = join(dirname(file), recordedName);
  // Neither there: a finding names the one FILE's name gives (upgrade probe of 2026-12-06, 4: it named the old one only).
  return existsSync(recorded) ? recorded : ownName;
}

/** Collects, while the log is read, the SHA-256 of every file its events cite. */
export class CitedEvidence {
  private readonly hashes = new Set<string>();

  observe(event: Pick<RecordedEvent, 'type' | 'data'>): void {
    for (const c of citedEvidence(event.type, event.data)) this.hashes.add(c.sha256);
  }

  get all(): string[] {
    return [...this.hashes].sort();
  }
}

/**
 * Writes the cited files into `FILE.evidence.partial`, each synced, and the folder synced; returns
 * the manifest entry, a problem when some could not be exported, and `place()`, which the export
 * calls once every other file is written too: it puts the folder under its final name.
 */
export async function writeEvidenceFiles(
  file: string,
  hashes: string[],
  blobs: EvidenceBlobStore | undefined,
): Promise<{ entry: ExportedEvidenceFiles; problem: string | null; place: () => Promise<void>; discard: () => Promise<void> }> {
  const dir = evidenceDirFor(file);
  const partial = `${dir}.partial`;
  const discard = () => rm(partial, { recursive: true, force: true });
  await discard();
  await mkdir(partial, { recursive: true });
  const files: ExportedEvidenceFiles['files'] = [];
  const missing: string[] = [];
  try {
    for (const sha256 of hashes) {
      const bytes = blobs ? await blobs.read(sha256) : null;
      // A blob that no longer hashes to what the log cites is not exported as if it were the evidence.
      if (!bytes || sha256Of(bytes) !== sha256) {
        missing.push(sha256);
        continue;
      }
      await writeFileDurably(join(partial, sha256), bytes);
      files.push({ sha256, size: bytes.length });
    }
    await syncDirectory(partial);
  } catch (error) {
    await discard();
    throw error;
  }
  const problem = missing.length
    ? `${missing.length} evidence file(s) cited by the log could not be exported intact from ${blobs?.description ?? 'the store (no evidence store given)'}, first ${missing[0]}`
    : null;
  const place = async () => {
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
  };
  return { entry: { dir: basename(dir), files, missing }, problem, place, discard };
}

/** The cited files the blob store no longer holds intact (missing, or bytes that hash to something else). */
export async function damagedEvidenceFiles(hashes: readonly string[], blobs: EvidenceBlobStore): Promise<string[]> {
  const damaged: string[] = [];
  for (const sha256 of hashes) {
    const bytes = await blobs.read(sha256);
    if (!bytes || sha256Of(bytes) !== sha256) damaged.push(sha256);
  }
  return damaged;
}

async function hashOfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checks every cited file of an export: present in its folder and hashing to the cited SHA-256. Null when all are. */
export async function verifyEvidenceFiles(file: string, entry: ExportedEvidenceFiles | undefined, hashes: string[]): Promise<string | null> {
  const dir = companionPath(file, evidenceDirFor(file), entry?.dir);
  const problems: string[] = [];
  for (const sha256 of hashes) {
    const path = join(dir, sha256);
    if (entry?.missing.includes(sha256)) problems.push(`evidence file ${sha256} cited by the log was missing or damaged in the store at export time`);
    else if (!existsSync(path)) problems.push(`evidence file ${path} cited by the log is missing from the export`);
    else {
      const actual = await hashOfFile(path);
      if (actual !== sha256) problems.push(`evidence file ${path} was altered: its SHA-256 is ${actual}, the log cites ${sha256}`);
    }
  }
  if (!problems.length) return null;
  return problems.length === 1 ? problems[0]! : `${problems[0]} (and ${problems.length - 1} more evidence file problem(s))`;
}

/**
 * An import restores the files its export carried (FILE.evidence/<sha256>) into the installation's
 * evidence store, so that the restored log's citations resolve and it exports intact again. Each
 * is copied to the store's upload folder, synced and handed over by its hash (the export was
 * verified first: every file hashes to what the log cites). Returns how many were restored.
 */
export async function restoreEvidenceFiles(file: string, entry: ExportedEvidenceFiles | undefined, blobs: EvidenceBlobStore): Promise<number> {
  if (!entry) return 0;
  const dir = companionPath(file, evidenceDirFor(file), entry.dir);
  await mkdir(blobs.uploadDir, { recursive: true, mode: 0o700 });
  for (const { sha256, size } of entry.files) {
    const temp = join(blobs.uploadDir, `${randomUUID()}.part`);
    try {
      await copyFile(join(dir, sha256), temp);
      await syncFile(temp);
      if ((await hashOfFile(temp)) !== sha256) throw new Error(`evidence file ${sha256} of the export changed since it was verified`);
      await blobs.put(sha256, temp, size);
    } finally {
      await rm(temp, { force: true });
    }
  }
  return entry.files.length;
}
