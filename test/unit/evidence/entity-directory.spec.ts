/**
 * EntityDirectory on a real SQLite event store and read-model file: a control, board resolution or
 * criteria version found in the evidence read model is confirmed by reading the one event that
 * introduced it (the read model keeps its stream revision), however long its stream; a row added
 * to the file by an insider is not confirmed, and the id is then looked for as its own stream. A
 * read model of the previous shape (no revisions) is rebuilt at start.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExpectedVersion, type EventStore, type NewEvent } from '../../../src/event-store/event-store.port.js';
import { SqliteEventStore } from '../../../src/event-store/sqlite/sqlite-event-store.js';
import { EntityDirectory } from '../../../src/evidence/application/entity-directory.js';
import { EvidenceProjection } from '../../../src/evidence/projections/evidence.projection.js';
import { FEATURES } from '../../../src/features.js';
import { upcastersOf } from '../../../src/platform/feature-contribution.js';
import { ProjectionRunner } from '../../../src/projections/projection-runner.js';
import { openReadModelDatabase, type ReadDb } from '../../../src/projections/read-model-database.js';
import { CRITERIA_STREAM } from '../../../src/risk-criteria/domain/criteria.state.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';

const silent = new JsonLogger('test', 'error');
const upcasters = upcastersOf(FEATURES);
const work = mkdtempSync(join(tmpdir(), 'risk-ledger-entity-directory-'));
const metadata = { actor: { id: 'committee', name: 'Committee', roles: ['COMMITTEE_MEMBER'] }, occurredAt: '2026-12-01T00:00:00.000Z', correlationId: 'c', causationId: 'c' };
const event = (type: string, data: Record<string, unknown>): NewEvent => ({ eventId: randomUUID(), type, schemaVersion: 1, data, metadata });

/** The real store, counting the events its readStream hands out (what a confirmation costs). */
function counting(store: EventStore): { store: EventStore; read: { events: number } } {
  const read = { events: 0 };
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === 'readStream') {
        return async (...args: Parameters<EventStore['readStream']>) => {
          const events = await target.readStream(...args);
          read.events += events.length;
          return events;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: proxy, read };
}

async function project(store: EventStore, db: ReadDb): Promise<void> {
  const head = await store.headPosition();
  const runner = new ProjectionRunner(store, db, [new EvidenceProjection()], upcasters.upcast, silent);
  runner.start();
  await runner.waitFor(head!);
  await runner.stop();
  expect(runner.failed).toBeUndefined();
}

const PROGRESS_RECORDS = 3_000;
let store: SqliteEventStore;
let resolutionId: string;

beforeAll(async () => {
  store = new SqliteEventStore({ path: join(work, 'events.sqlite') });
  await store.init();
  await store.append('asset-a1', [event('AssetRegistered', { assetId: 'a1' })], { expectedVersion: ExpectedVersion.noStream });
  // A long risk: a control decided early, thousands of progress records on it, a control decided late.
  await store.append('risk-r1', [event('RiskIdentified', { riskId: 'r1' }), event('ControlsDecided', { riskId: 'r1', controls: [{ controlId: 'c-early' }] })], { expectedVersion: ExpectedVersion.noStream });
  for (let done = 0; done < PROGRESS_RECORDS; done += 500) {
    const page = Array.from({ length: 500 }, (_, i) => event('ControlProgressRecorded', { riskId: 'r1', controlId: 'c-early', status: 'IN_PROGRESS', note: `step ${done + i}`, evidence: [] }));
    await store.append('risk-r1', page, { expectedVersion: ExpectedVersion.any });
  }
  await store.append('risk-r1', [event('ControlsDecided', { riskId: 'r1', controls: [{ controlId: 'c-late-1' }, { controlId: 'c-late-2' }] })], { expectedVersion: ExpectedVersion.any });
  const recorded = event('BoardResolutionRecorded', { planId: 'p1' });
  resolutionId = recorded.eventId;
  await store.append('plan-p1', [event('PlanDrafted', { planId: 'p1' }), recorded], { expectedVersion: ExpectedVersion.noStream });
  await store.append(CRITERIA_STREAM, [event('RiskCriteriaProposed', { criteriaId: 'crit-1' })], { expectedVersion: ExpectedVersion.noStream });
});

afterAll(async () => {
  await store.close();
  rmSync(work, { recursive: true, force: true });
});

describe('EntityDirectory confirms an entity of the evidence read model by the one event that introduced it', () => {
  let db: ReadDb;
  beforeAll(async () => {
    db = openReadModelDatabase(join(work, 'read-models.sqlite'));
    await project(store, db);
  });
  afterAll(() => {
    db.close();
  });

  it('reads one event for a control of a risk stream of thousands of events, and for a resolution and a criteria version', async () => {
    expect(await store.streamVersion('risk-r1')).toBe(PROGRESS_RECORDS + 2);
    for (const [id, kind] of [['c-late-2', 'CONTROL'], ['c-late-1', 'CONTROL'], ['c-early', 'CONTROL'], [resolutionId, 'BOARD_RESOLUTION'], ['crit-1', 'RISK_CRITERIA']] as const) {
      const { store: countingStore, read } = counting(store);
      const directory = new EntityDirectory(countingStore, db);
      expect([id, await directory.kindOf(id)]).toEqual([id, kind]);
      expect([id, read.events]).toEqual([id, 1]);
    }
  });

  it('does not confirm rows added to the file (insider probe p14); an id with a stream of its own is still found by it', async () => {
    const late = db.prepare("SELECT position, revision FROM annotated_entities WHERE id = 'c-late-1'").get() as { position: string; revision: number };
    const early = db.prepare("SELECT position, revision FROM annotated_entities WHERE id = 'c-early'").get() as { position: string; revision: number };
    const forge = db.prepare("INSERT OR REPLACE INTO annotated_entities (id, kind, parent_id, position, revision) VALUES (?, ?, ?, ?, ?)");
    // A control that never existed, naming the real event of another (position and revision copied).
    forge.run('ghost-control-1', 'CONTROL', 'r1', late.position, late.revision);
    // The revision of one event with the position of another.
    forge.run('ghost-control-2', 'CONTROL', 'r1', early.position, late.revision);
    // A revision the stream does not reach, or that names no revision at all.
    forge.run('ghost-control-3', 'CONTROL', 'r1', late.position, late.revision + 1);
    forge.run('ghost-control-4', 'CONTROL', 'r1', late.position, -1);
    forge.run('ghost-control-5', 'CONTROL', 'r1', late.position, 'last');
    forge.run('ghost-control-6', 'CONTROL', 'r1', late.position, 2 ** 60);
    // A resolution that never existed, naming the real resolution's event.
    const resolution = db.prepare('SELECT position, revision FROM annotated_entities WHERE id = ?').get(resolutionId) as { position: string; revision: number };
    forge.run('ghost-resolution', 'BOARD_RESOLUTION', 'p1', resolution.position, resolution.revision);
    // A parent no stream can have (the store refuses the stream id): not confirmed, not an error.
    forge.run('ghost-control-7', 'RISK_CRITERIA', '', late.position, late.revision);
    // A forged row under a real asset's id: the asset is still found by its own stream (re-probe p15).
    forge.run('a1', 'CONTROL', 'r1', late.position, late.revision);
    const { store: countingStore, read } = counting(store);
    const directory = new EntityDirectory(countingStore, db);
    for (const id of ['ghost-control-1', 'ghost-control-2', 'ghost-control-3', 'ghost-control-4', 'ghost-control-5', 'ghost-control-6', 'ghost-control-7', 'ghost-resolution']) {
      expect([id, await directory.kindOf(id)]).toEqual([id, null]);
    }
    expect(await directory.kindOf('a1')).toBe('ASSET');
    expect(read.events).toBeLessThanOrEqual(8);
    // The real control's row moved to the ghost's revision: not confirmed either.
    forge.run('c-early', 'CONTROL', 'r1', early.position, late.revision);
    expect(await directory.kindOf('c-early')).toBeNull();
    forge.run('c-early', 'CONTROL', 'r1', early.position, early.revision);
    expect(await directory.kindOf('c-early')).toBe('CONTROL');
  });
});

describe('an evidence read model of the previous shape (no revisions)', () => {
  it('is rebuilt at start, and then confirms a control by one event', async () => {
    const db = openReadModelDatabase(join(work, 'read-models-v1.sqlite'));
    try {
      const head = await store.headPosition();
      // What schema 1 left: the table without revisions, with a row, checkpointed at the head.
      db.exec('CREATE TABLE annotated_entities (id TEXT PRIMARY KEY, kind TEXT NOT NULL, parent_id TEXT NOT NULL, position TEXT NOT NULL)');
      db.prepare("INSERT INTO annotated_entities VALUES ('c-late-1', 'CONTROL', 'r1', ?)").run(head);
      db.prepare("INSERT INTO projection_checkpoints (name, schema_version, position) VALUES ('evidence', 1, ?)").run(head);
      await project(store, db);
      expect(db.prepare("SELECT schema_version FROM projection_checkpoints WHERE name = 'evidence'").pluck().get()).toBe(new EvidenceProjection().schemaVersion);
      const row = db.prepare("SELECT position, revision FROM annotated_entities WHERE id = 'c-late-1'").get();
      expect(row).toEqual({ position: (await store.readStream('risk-r1', { fromRevision: PROGRESS_RECORDS + 2 }))[0]!.position, revision: PROGRESS_RECORDS + 2 });
      const { store: countingStore, read } = counting(store);
      expect(await new EntityDirectory(countingStore, db).kindOf('c-late-1')).toBe('CONTROL');
      expect(read.events).toBe(1);
    } finally {
      db.close();
    }
  });
});
