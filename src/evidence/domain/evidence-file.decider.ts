import { createHash } from 'node:crypto';
import type { Decider, DomainActor } from '../../shared/domain/decider.js';
import { FieldErrors, hasUnprintable, ILL_FORMED_TEXT, invisibleCodePoint, isWellFormedText, longerThan, requireDomainWriter } from '../../shared/domain/guards.js';
import type { EvidenceFileEvent } from './evidence.events.js';
import { isAllowedMediaType } from './media-types.js';

export const EVIDENCE_LIMITS = { filename: 200, description: 10_000, comment: 10_000 } as const;

const SHA256 = /^[0-9a-f]{64}$/;

export interface StoreEvidenceFile {
  type: 'StoreEvidenceFile';
  actor: DomainActor;
  at: string;
  evidenceId: string;
  sha256: string;
  size: number;
  mediaType: string;
  filename: string;
}

export interface EvidenceFileState {
  exists: boolean;
  evidenceId: string;
  sha256: string;
  size: number;
  mediaType: string;
  filename: string;
  storedBy: string;
  storedAt: string;
}

export const initialEvidenceFileState: EvidenceFileState = { exists: false, evidenceId: '', sha256: '', size: 0, mediaType: '', filename: '', storedBy: '', storedAt: '' };

/**
 * The id of an upload: a UUID (version 8) from the SHA-256 of the bytes, the media type and the
 * file name. The same file sent again under the same name is the same evidence (one stream, one
 * event, however many uploads race); under another name it is another evidence over the same blob.
 */
export function evidenceIdFor(sha256: string, mediaType: string, filename: string): string {
  const h = createHash('sha256').update(`${sha256}\n${mediaType}\n${filename}`).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A file name as given in x-filename: 1 to 200 characters, no control or invisible characters (hasUnprintable, invisibleCodePoint), no folders. */
export function filenameProblem(filename: string): string | null {
  if (filename.trim() === '') return 'is required';
  if (longerThan(filename, EVIDENCE_LIMITS.filename)) return `must be at most ${EVIDENCE_LIMITS.filename} characters`;
  if (hasUnprintable(filename)) return 'must not contain control, line-separator, bidirectional-override or invisible characters';
  // Nor one Unicode displays as nothing where it stands (file names are listed side by side, unfolded).
  const invisible = invisibleCodePoint(filename);
  if (invisible) return `must not contain ${invisible}, a character displayed as nothing there (a default-ignorable code point: combining grapheme joiner, a variation selector or joiner with nothing to act on, a tag character, a direction mark)`;
  // A noncharacter (U+FFFE, U+FDD0...) or a lone surrogate, as every other text (probe p11).
  if (!isWellFormedText(filename)) return ILL_FORMED_TEXT;
  if (/[\\/]/.test(filename) || filename === '.' || filename === '..') return 'must be a file name, not a path';
  return null;
}

function decide(c: StoreEvidenceFile, s: EvidenceFileState): EvidenceFileEvent[] {
  requireDomainWriter(c.actor, 'store an evidence file');
  if (s.exists) return [];
  const errors = new FieldErrors();
  if (!SHA256.test(c.sha256)) errors.add('sha256', 'must be 64 lower-case hex digits');
  if (!Number.isSafeInteger(c.size) || c.size < 0) errors.add('size', 'must be a whole number of bytes');
  if (!isAllowedMediaType(c.mediaType)) errors.add('content-type', `${c.mediaType} is not an accepted media type`);
  const nameProblem = filenameProblem(c.filename);
  if (nameProblem) errors.add('x-filename', nameProblem);
  if (c.evidenceId !== evidenceIdFor(c.sha256, c.mediaType, c.filename)) errors.add('evidenceId', 'does not match the file');
  errors.throwIfAny();
  return [
    {
      type: 'EvidenceFileStored',
      data: { evidenceId: c.evidenceId, sha256: c.sha256, size: c.size, mediaType: c.mediaType, filename: c.filename, storedBy: c.actor.id, storedAt: c.at },
    },
  ];
}

function evolve(s: EvidenceFileState, e: EvidenceFileEvent): EvidenceFileState {
  switch (e.type) {
    case 'EvidenceFileStored':
      return { exists: true, ...e.data };
    default:
      return s;
  }
}

/** One uploaded evidence file (its stream holds one event: storing is already satisfied once done). */
export const evidenceFileDecider: Decider<StoreEvidenceFile, EvidenceFileEvent, EvidenceFileState> = {
  decide,
  evolve,
  initialState: initialEvidenceFileState,
  stateVersion: 'evidence-file/1',
};

