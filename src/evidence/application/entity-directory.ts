import type { EventStore } from '../../event-store/event-store.port.js';
import { InvalidAppendError } from '../../event-store/errors.js';
import type { ReadDb } from '../../projections/read-model-database.js';
import type { AnnotatedEntityKind } from '../domain/evidence.events.js';
import { entitiesIntroducedBy, EvidenceReadModel, streamOfInnerEntity, type InnerEntityRow } from '../projections/evidence.projection.js';

/** Entities with a stream of their own, found in the log itself (also when another instance wrote them a moment ago). */
const OWN_STREAMS: [string, AnnotatedEntityKind][] = [
  ['asset-', 'ASSET'],
  ['risk-', 'RISK'],
  ['plan-', 'PLAN'],
  ['baseline-catalogue-', 'BASELINE_CATALOGUE'],
  ['incident-', 'INCIDENT'],
  ['context-', 'CONTEXT'],
];

/** An entity found: its kind, and the stream it lives in (null for a built-in one, which has no events). */
export interface LocatedEntity {
  kind: AnnotatedEntityKind;
  streamId: string | null;
}

/** Ids of the built-in catalogue and other entities that exist without any event. */
export interface EntityDirectoryOptions {
  builtInIds?: Record<string, AnnotatedEntityKind>;
}

/**
 * What an id names, for the entities evidence and comments attach to: an asset, risk, plan or
 * catalogue (their own stream), a control, board resolution or criteria version (found through the
 * evidence read model, which indexes them from their events), or null when it names nothing.
 * Entities are never deleted from the log, so an entity found stays found: the check needs no
 * version guard against a concurrent write.
 */
export class EntityDirectory {
  private readonly model: EvidenceReadModel;

  constructor(private readonly store: EventStore, db: ReadDb, private readonly options: EntityDirectoryOptions = {}) {
    this.model = new EvidenceReadModel(db);
  }

  async kindOf(entityId: string): Promise<AnnotatedEntityKind | null> {
    return (await this.locate(entityId))?.kind ?? null;
  }

  /** What the id names and the stream it lives in (its own, or its parent's: a control's risk); null for a built-in entity, which has none. */
  async locate(entityId: string): Promise<LocatedEntity | null> {
    // Own keys only: '__proto__' or 'constructor' must not find what every object inherits.
    const builtInIds = this.options.builtInIds;
    if (builtInIds && Object.hasOwn(builtInIds, entityId)) return { kind: builtInIds[entityId]!, streamId: null };
    const inner = this.model.innerEntity(entityId);
    // Not confirmed (a row added to the file, perhaps under a real asset's id): looked for as below.
    if (inner && (await this.inLog(entityId, inner))) return { kind: inner.kind, streamId: streamOfInnerEntity(inner.kind, inner.parentId) };
    // 'risk-criteria' is the criteria register's stream, not a risk; ids never contain spaces or such.
    if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(entityId) || entityId === 'criteria') return null;
    for (const [prefix, kind] of OWN_STREAMS) {
      if ((await this.store.streamVersion(prefix + entityId)) >= 0) return { kind, streamId: prefix + entityId };
    }
    return null;
  }

  /**
   * The read model's word confirmed by the log: the event at the indexed stream revision, in the
   * stream the entity lives in, is at the indexed position and brings it into being. A row added
   * to the read-model file had let a comment be recorded, and signed, on a control that never
   * existed (insider probe p14). One event is read, however long the stream: the stream used to
   * be read from its start up to the position, thousands of events per comment on a long risk.
   */
  private async inLog(entityId: string, inner: InnerEntityRow): Promise<boolean> {
    const streamId = streamOfInnerEntity(inner.kind, inner.parentId);
    const revision = inner.revision;
    if (streamId === null || typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) return false;
    let event;
    try {
      [event] = await this.store.readStream(streamId, { fromRevision: revision, toRevision: revision });
    } catch (error) {
      // A forged row naming a parent no stream can have: not confirmed (storage errors still fail the request).
      if (error instanceof InvalidAppendError) return false;
      throw error;
    }
    if (!event || event.streamId !== streamId || event.revision !== revision || event.position !== inner.position) return false;
    return entitiesIntroducedBy(event).some((x) => x.id === entityId && x.kind === inner.kind && x.parentId === inner.parentId);
  }
}
