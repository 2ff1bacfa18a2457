import { isWholeNumberText } from './settings.js';
import { resolve } from 'node:path';

/** Evidence files (src/evidence): how large an upload may be, and where the blobs live. */
export interface EvidenceSettings {
  /** EVIDENCE_MAX_BYTES: the largest file POST /evidence accepts (413 past it). */
  maxBytes: number;
  /** EVIDENCE_DIR: a folder for the blobs, whatever the store; null: DATA_DIR/evidence, or the PostgreSQL database, or memory. */
  dir: string | null;
}

/** 25 MB (25 x 1024 x 1024 bytes). */
export const DEFAULT_EVIDENCE_MAX_BYTES = 26_214_400;

/** Reads EVIDENCE_MAX_BYTES and EVIDENCE_DIR; `fail` builds the error the caller throws (ConfigError). */
export function evidenceSettings(env: NodeJS.ProcessEnv, fail: (message: string, setting: string) => Error): EvidenceSettings {
  const raw = env.EVIDENCE_MAX_BYTES;
  const maxBytes = raw ? Number(raw) : DEFAULT_EVIDENCE_MAX_BYTES;
  if ((raw && !isWholeNumberText(raw)) || maxBytes < 1) throw fail(`EVIDENCE_MAX_BYTES must be a positive whole number of bytes, got ${JSON.stringify(env.EVIDENCE_MAX_BYTES)}`, 'EVIDENCE_MAX_BYTES');
  const dir = env.EVIDENCE_DIR?.trim();
  return { maxBytes, dir: dir ? resolve(dir) : null };
}
