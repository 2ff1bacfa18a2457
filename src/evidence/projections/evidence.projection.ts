import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { Projection } from '../../projections/projection.js';
import { preparedOnce, type ReadDb } from '../../projections/read-model-database.js';
import type { AnnotatedEntityKind } from '../domain/evidence.events.js';

/** Events of other features whose entities have no stream of their own, or whose ids are not in their stream's name. */
const ENTITY_SOURCES = ['ControlsDecided', 'BoardResolutionRecorded', 'RiskCriteriaProposed'];

/**
 * The evidence read model: the files stored, what is attached to each entity (attachEvidence, and
 * the `evidence` entries of a control's progress, ControlProgressRecorded), the comments, and an
 * index of the entities that live inside another stream (controls in their risk's stream, board
 * resolutions in their plan's, criteria versions in the criteria stream) for the existence check.
 */
export class EvidenceProjection implements Projection {
  readonly name = 'evidence';
  readonly schemaVersion = 2; // 2: annotated_entities keeps the introducing event's stream revision

  setup(db: ReadDb): void {
    db.exec(`
      CREATE TABLE IF NOT EXISTS evidence_files (id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL, media_type TEXT NOT NULL, filename TEXT NOT NULL, stored_by TEXT NOT NULL, stored_at TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS evidence_links (
        entity_id TEXT NOT NULL, evidence_id TEXT NOT NULL, seq INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, media_type TEXT NOT NULL,
        filename TEXT NOT NULL, description TEXT NOT NULL, attached_by TEXT NOT NULL, attached_at TEXT NOT NULL, source TEXT NOT NULL, position TEXT NOT NULL,
        PRIMARY KEY (entity_id, evidence_id));
      CREATE TABLE IF NOT EXISTS entity_comments (id TEXT PRIMARY KEY, entity_id TEXT NOT NULL, author_id TEXT NOT NULL, author_name TEXT NOT NULL, text TEXT NOT NULL, created_at TEXT NOT NULL, position TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS entity_comments_by_entity ON entity_comments (entity_id, position);
      CREATE TABLE IF NOT EXISTS annotated_entities (id TEXT PRIMARY KEY, kind TEXT NOT NULL, parent_id TEXT NOT NULL, position TEXT NOT NULL, revision INTEGER NOT NULL);`);
  }

  reset(db: ReadDb): void {
    db.exec('DROP TABLE IF EXISTS evidence_files; DROP TABLE IF EXISTS evidence_links; DROP TABLE IF EXISTS entity_comments; DROP TABLE IF EXISTS annotated_entities;');
    this.setup(db);
  }

  apply(event: RecordedEvent, db: ReadDb): void {
    const d = event.data as Record<string, any>;
    switch (event.type) {
      case 'EvidenceFileStored':
        preparedOnce(db, 'INSERT OR IGNORE INTO evidence_files (id, sha256, size, media_type, filename, stored_by, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
          d.evidenceId, d.sha256, d.size, d.mediaType, d.filename, d.storedBy, d.storedAt,
        );
        return;
      case 'EvidenceAttached':
        this.link(db, event, { entityId: d.entityId, evidenceId: d.evidenceId, sha256: d.sha256, size: d.size, mediaType: d.mediaType, filename: d.filename, description: d.description, attachedBy: d.attachedBy, attachedAt: d.attachedAt, source: 'ATTACHMENT' });
        return;
      case 'CommentAdded':
        preparedOnce(db, 'INSERT OR IGNORE INTO entity_comments (id, entity_id, author_id, author_name, text, created_at, position) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
          d.commentId, d.entityId, d.authorId, d.authorName, d.text, d.addedAt, event.position,
        );
        return;
      case 'ControlProgressRecorded': {
        // The risk register's control lifecycle cites files by { evidenceId, sha256 }.
        if (typeof d.controlId !== 'string' || !Array.isArray(d.evidence)) return;
        const file = preparedOnce(db, 'SELECT size, media_type, filename FROM evidence_files WHERE id = ?');
        for (const cited of d.evidence as { evidenceId?: unknown; sha256?: unknown }[]) {
          if (typeof cited?.evidenceId !== 'string' || typeof cited.sha256 !== 'string') continue;
          const known = file.get(cited.evidenceId) as { size: number; media_type: string; filename: string } | undefined;
          const note = typeof d.note === 'string' && d.note.trim() ? d.note.trim() : `Progress of the control: ${typeof d.status === 'string' ? d.status : 'recorded'}`;
          this.link(db, event, {
            entityId: d.controlId, evidenceId: cited.evidenceId, sha256: cited.sha256, size: known?.size ?? 0, mediaType: known?.media_type ?? 'application/octet-stream',
            filename: known?.filename ?? cited.sha256, description: note, attachedBy: event.metadata.actor.id, attachedAt: event.metadata.occurredAt, source: 'CONTROL_PROGRESS',
          });
        }
        return;
      }
    }
    if (ENTITY_SOURCES.includes(event.type)) this.indexEntities(event, db);
  }

  private link(db: ReadDb, event: RecordedEvent, l: { entityId: string; evidenceId: string; sha256: string; size: number; mediaType: string; filename: string; description: string; attachedBy: string; attachedAt: string; source: string }): void {
    preparedOnce(
      db,
      `INSERT OR IGNORE INTO evidence_links (entity_id, evidence_id, seq, sha256, size, media_type, filename, description, attached_by, attached_at, source, position)
       VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM evidence_links), ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(l.entityId, l.evidenceId, l.sha256, l.size, l.mediaType, l.filename, l.description, l.attachedBy, l.attachedAt, l.source, event.position);
  }

  private indexEntities(event: RecordedEvent, db: ReadDb): void {
    // The revision lets EntityDirectory read back exactly the event named, however long the stream.
    const insert = preparedOnce(db, 'INSERT OR IGNORE INTO annotated_entities (id, kind, parent_id, position, revision) VALUES (?, ?, ?, ?, ?)');
    for (const e of entitiesIntroducedBy(event)) insert.run(e.id, e.kind, e.parentId, event.position, event.revision);
  }
}

/**
 * The entities without a stream of their own that an event brings into being, and the stream
 * they live in: the controls a ControlsDecided names (in the risk's stream), a board resolution
 * (the plan's; it has no id of its own: the id of the event that recorded it is one), a criteria
 * version (the criteria register's). The read model indexes them from here, and EntityDirectory
 * confirms an indexed one against the event it names.
 */
export function entitiesIntroducedBy(event: Pick<RecordedEvent, 'type' | 'data' | 'eventId' | 'streamId'>): { id: string; kind: AnnotatedEntityKind; parentId: string; streamId: string }[] {
  const d = event.data as Record<string, any>;
  const out: { id: string; kind: AnnotatedEntityKind; parentId: string; streamId: string }[] = [];
  const add = (id: unknown, kind: AnnotatedEntityKind, parent: unknown) => {
    if (typeof id === 'string' && typeof parent === 'string') out.push({ id, kind, parentId: parent, streamId: event.streamId });
  };
  if (event.type === 'ControlsDecided' && Array.isArray(d.controls)) for (const c of d.controls) add(c?.controlId, 'CONTROL', d.riskId);
  if (event.type === 'BoardResolutionRecorded') add(event.eventId, 'BOARD_RESOLUTION', event.streamId.replace(/^plan-/, ''));
  if (event.type === 'RiskCriteriaProposed') add(d.criteriaId, 'RISK_CRITERIA', event.streamId);
  return out;
}

/** The stream an indexed entity's introducing event lives in (see entitiesIntroducedBy). */
export function streamOfInnerEntity(kind: AnnotatedEntityKind, parentId: string): string | null {
  if (kind === 'CONTROL') return `risk-${parentId}`;
  if (kind === 'BOARD_RESOLUTION') return `plan-${parentId}`;
  if (kind === 'RISK_CRITERIA') return parentId;
  return null;
}

export interface EvidenceRow {
  id: string;
  entityId: string;
  sha256: string;
  size: number;
  mediaType: string;
  filename: string;
  description: string;
  attachedBy: string;
  attachedAt: string;
  source: string;
  position: string;
}

export interface InnerEntityRow {
  kind: AnnotatedEntityKind;
  parentId: string;
  position: string;
  /** The introducing event's revision in its stream; `unknown` because the file may hold anything there. */
  revision: unknown;
}

export interface CommentRow {
  id: string;
  entityId: string;
  author: { id: string; name: string };
  text: string;
  createdAt: string;
  position: string;
}

export class EvidenceReadModel {
  constructor(private readonly db: ReadDb) {}

  evidenceOf(entityId: string): EvidenceRow[] {
    const rows = this.db
      .prepare('SELECT * FROM evidence_links WHERE entity_id = ? ORDER BY seq')
      .all(entityId) as { entity_id: string; evidence_id: string; sha256: string; size: number; media_type: string; filename: string; description: string; attached_by: string; attached_at: string; source: string; position: string }[];
    return rows.map((r) => ({
      id: r.evidence_id, entityId: r.entity_id, sha256: r.sha256, size: r.size, mediaType: r.media_type, filename: r.filename, description: r.description,
      attachedBy: r.attached_by, attachedAt: r.attached_at, source: r.source, position: r.position,
    }));
  }

  /** The evidence of many entities at once (one query for a page of controls). */
  evidenceOfMany(entityIds: readonly string[]): Map<string, EvidenceRow[]> {
    const out = new Map<string, EvidenceRow[]>(entityIds.map((id) => [id, []]));
    for (const id of new Set(entityIds)) out.set(id, this.evidenceOf(id));
    return out;
  }

  commentsOn(entityId: string): CommentRow[] {
    const rows = this.db.prepare('SELECT * FROM entity_comments WHERE entity_id = ? ORDER BY position').all(entityId) as {
      id: string; entity_id: string; author_id: string; author_name: string; text: string; created_at: string; position: string;
    }[];
    return rows.map((r) => ({ id: r.id, entityId: r.entity_id, author: { id: r.author_id, name: r.author_name }, text: r.text, createdAt: r.created_at, position: r.position }));
  }

  /**
   * An entity that lives inside another stream (a control, a board resolution, a criteria version),
   * with the position and stream revision of the event that introduced it. As the read-model file
   * holds it: unchecked (EntityDirectory confirms it against the log).
   */
  innerEntity(id: string): InnerEntityRow | null {
    const row = this.db.prepare('SELECT kind, parent_id, position, revision FROM annotated_entities WHERE id = ?').get(id) as
      | { kind: AnnotatedEntityKind; parent_id: string; position: string; revision: unknown }
      | undefined;
    return row ? { kind: row.kind, parentId: row.parent_id, position: row.position, revision: row.revision } : null;
  }
}
