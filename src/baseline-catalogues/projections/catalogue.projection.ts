import type { RecordedEvent } from '../../event-store/event-store.port.js';
import type { Projection, ProjectionOptions } from '../../projections/projection.js';
import { preparedOnce, type ReadDb } from '../../projections/read-model-database.js';
import { BUILTIN_CATALOGUE } from '../domain/builtin-catalogue.js';
import { catalogueDecider, catalogueStreams, findCatalogue } from '../domain/catalogue.decider.js';
import type { CatalogueEvent } from '../domain/catalogue.events.js';
import type { BaselineCatalogueState } from '../domain/catalogue.state.js';

/**
 * Baseline catalogues (Art. 15(2)(1)): one row per imported catalogue version, in import order,
 * holding its state as `evolve` makes it. The built-in catalogue is code and never stored.
 */
export class CatalogueProjection implements Projection {
  readonly name = 'baseline-catalogues';
  // 2: the listing's columns beside the document (a list reads no requirements it does not show).
  readonly schemaVersion = 2;
  /** Catalogues are not point-in-time: replays skip them (with 25 imported, 79 MB copied per replay). */
  readonly liveOnlyTables = ['baseline_catalogues'] as const;

  constructor(private readonly options: ProjectionOptions = {}) {}

  setup(db: ReadDb): void {
    db.exec(`CREATE TABLE IF NOT EXISTS baseline_catalogues (
      id TEXT PRIMARY KEY,
      seq INTEGER NOT NULL UNIQUE,
      listing TEXT NOT NULL,
      doc TEXT NOT NULL
    );`);
  }

  reset(db: ReadDb): void {
    db.exec('DROP TABLE IF EXISTS baseline_catalogues');
    this.setup(db);
  }

  apply(event: RecordedEvent, db: ReadDb): void {
    if (this.options.replay) return;
    const id = catalogueStreams.idOf(event.streamId);
    if (id === undefined) return;
    const row = preparedOnce(db, 'SELECT doc FROM baseline_catalogues WHERE id = ?').get(id) as { doc: string } | undefined;
    const state: BaselineCatalogueState = row ? JSON.parse(row.doc) : catalogueDecider.initialState;
    const next = catalogueDecider.evolve(state, { type: event.type, data: event.data } as CatalogueEvent);
    const listing = JSON.stringify(listingOf(next));
    if (row) preparedOnce(db, 'UPDATE baseline_catalogues SET listing = ?, doc = ? WHERE id = ?').run(listing, JSON.stringify(next), id);
    else preparedOnce(db, 'INSERT INTO baseline_catalogues (id, seq, listing, doc) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM baseline_catalogues), ?, ?)').run(id, listing, JSON.stringify(next));
  }
}

/**
 * Synchronous queries over the catalogues, for this slice's GraphQL queries and for other slices
 * (a baseline analysis checks its results against a catalogue's requirements). Knows the
 * built-in catalogue.
 */
export class CatalogueQueries {
  constructor(private readonly db: ReadDb) {}

  /** The built-in catalogue or an imported one. */
  byId(id: string): BaselineCatalogueState | undefined {
    const row = this.db.prepare('SELECT doc FROM baseline_catalogues WHERE id = ?').get(id) as { doc: string } | undefined;
    return findCatalogue(id, row ? [JSON.parse(row.doc) as BaselineCatalogueState] : []);
  }

  /**
   * The built-in catalogue first, then every imported one in import order, without their
   * requirements (their count instead): an imported catalogue can be megabytes, and 250 of them
   * listed by id took 1.2 GB of heap and ended the process (probe, 2026-12-01). Whoever needs the requirements reads them per
   * catalogue (byId), each charged to the request's budget (catalogue.resolver.ts).
   */
  listings(): CatalogueListing[] {
    const rows = this.db.prepare('SELECT listing FROM baseline_catalogues ORDER BY seq').pluck().all() as string[];
    // Rows are imported catalogues only (the built-in id is reserved: CATALOGUE_ID_RESERVED).
    return [listingOf(BUILTIN_CATALOGUE), ...rows.map((r) => JSON.parse(r) as CatalogueListing)];
  }
}

/** A catalogue as listed: everything but its requirements, and their count. */
export type CatalogueListing = Omit<BaselineCatalogueState, 'requirements'> & { requirements?: BaselineCatalogueState['requirements']; requirementCount: number };

function listingOf(state: BaselineCatalogueState): CatalogueListing {
  const { requirements, ...rest } = state;
  return { ...rest, requirementCount: requirements.length };
}
