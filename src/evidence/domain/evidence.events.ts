/**
 * Events of the evidence files and of the notes on entities (the storage contract: never edited;
 * a new shape gets a new schema version and an upcaster).
 *
 * - `evidence-file-<id>`: one stream per uploaded file (id derived from its SHA-256, media type and
 *   name, so the same upload repeated is one stream with one event). The log, not a local table,
 *   is where a file's metadata lives: it survives restarts and every instance reads the same.
 * - `annotations-<entityId>`: the evidence attached to an entity and the comments on it, beside
 *   the entity's own stream (an asset, risk, control, plan, board resolution, criteria version or
 *   catalogue); `history(entityId)` merges the two.
 */
import { streamCategory } from '../../shared/domain/guards.js';

export const evidenceFileStreams = streamCategory('evidence-file');
export const annotationStreams = streamCategory('annotations');

export interface EvidenceFileStored {
  type: 'EvidenceFileStored';
  data: { evidenceId: string; sha256: string; size: number; mediaType: string; filename: string; storedBy: string; storedAt: string };
}

/** What an annotation names: the kind of entity it was attached to, checked when it was recorded. */
export type AnnotatedEntityKind = 'ASSET' | 'RISK' | 'CONTROL' | 'PLAN' | 'BOARD_RESOLUTION' | 'RISK_CRITERIA' | 'BASELINE_CATALOGUE' | 'INCIDENT' | 'CONTEXT';

export interface EvidenceAttached {
  type: 'EvidenceAttached';
  data: {
    entityId: string;
    entityKind: AnnotatedEntityKind;
    evidenceId: string;
    /** The exact bytes cited: the log pins them, the export carries them, verify checks them. */
    sha256: string;
    size: number;
    mediaType: string;
    filename: string;
    description: string;
    attachedBy: string;
    attachedAt: string;
  };
}

export interface CommentAdded {
  type: 'CommentAdded';
  data: { commentId: string; entityId: string; entityKind: AnnotatedEntityKind; text: string; authorId: string; authorName: string; addedAt: string };
}

export type EvidenceFileEvent = EvidenceFileStored;
export type AnnotationEvent = EvidenceAttached | CommentAdded;
export type EvidenceEvent = EvidenceFileEvent | AnnotationEvent;
export type EvidenceEventType = EvidenceEvent['type'];

export const evidenceEventSchemaVersions: Record<EvidenceEventType, number> = {
  EvidenceFileStored: 1,
  EvidenceAttached: 1,
  CommentAdded: 1,
};

/** Turns stored data of any known schema version into the current shape (identity today). */
export function upcastEvidenceEvent(type: string, schemaVersion: number, data: unknown): EvidenceEvent {
  if (!(type in evidenceEventSchemaVersions)) throw new Error(`Unknown evidence event type ${type}`);
  const current = evidenceEventSchemaVersions[type as EvidenceEventType];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(`Unsupported schema version ${schemaVersion} of ${type} (current ${current})`);
  }
  return { type, data } as EvidenceEvent;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * The evidence files an event of the log cites, by SHA-256 (for the export and its verification):
 * a stored file, an attachment, and the `evidence` entries of other features' events (a control's
 * progress: `evidence: [{ evidenceId, sha256 }]`). Reads the data defensively: any event type.
 */
export function citedEvidence(type: string, data: Record<string, unknown>): { sha256: string; evidenceId: string | null }[] {
  const out: { sha256: string; evidenceId: string | null }[] = [];
  const add = (v: unknown) => {
    if (typeof v !== 'object' || v === null) return;
    const { sha256, evidenceId } = v as { sha256?: unknown; evidenceId?: unknown };
    if (typeof sha256 === 'string' && SHA256.test(sha256)) out.push({ sha256, evidenceId: typeof evidenceId === 'string' ? evidenceId : null });
  };
  if (type === 'EvidenceFileStored' || type === 'EvidenceAttached') add(data);
  if (Array.isArray(data.evidence)) data.evidence.forEach(add);
  return out;
}
