import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { GraphQLRequestContext, GraphQLRequestListener } from '@apollo/server';
import { AccessLogStore, type AccessRecord } from '../../../src/audit/application/access-log.js';
import { DROPPED_OPERATION } from '../../../src/audit/application/access-log-backlog.js';
import { accessLogPlugin, accessLogWsHooks } from '../../../src/audit/graphql/access-log.plugin.js';
import { InMemoryEventStore } from '../../../src/event-store/memory/in-memory-event-store.js';
import { loadSigningKeys } from '../../../src/event-store/signing.js';
import { RefusedRequest } from '../../../src/graphql/edge-limits.js';
import { upcastersOf } from '../../../src/platform/feature-contribution.js';
import { FEATURES } from '../../../src/features.js';
import { criteriaDecider, criteriaStreamId, type CriteriaCommand } from '../../../src/risk-criteria/domain/criteria.decider.js';
import { CommandExecutor } from '../../../src/shared/application/command-executor.js';
import { WriteGates } from '../../../src/shared/application/write-gates.js';
import { StoreUnavailableError } from '../../../src/shared/domain/errors.js';
import { criteria3x3 } from '../../support/criteria-definitions.js';
import { eventually } from '../../support/eventually.js';

const entry = (n: number, type: AccessRecord['operationType'] = 'query'): AccessRecord => ({
  at: new Date().toISOString(), actorId: 'alice', actorName: 'Alice', actorRoles: ['ASSET_MANAGER'], operationName: `Op${n}`, operationType: type,
  fields: ['assets'], targetIds: [], outcome: 'ALLOWED', errorCode: null, correlationId: `req-${n}`,
});

/** The writer the server runs, from the build (run `npm run build` before this file alone). */
const BUILT_WRITER = new URL('../../../dist/src/audit/application/access-log-writer.worker.js', import.meta.url);
function builtWriter(): URL {
  if (!existsSync(fileURLToPath(BUILT_WRITER))) throw new Error(`${fileURLToPath(BUILT_WRITER)} is missing: run npm run build first`);
  return BUILT_WRITER;
}

const WRITERS: [string, () => URL | undefined][] = [
  ['on the main thread', () => undefined],
  ['in the writer thread', builtWriter],
];

const quiet = { error: () => undefined, warn: () => undefined };

/** A stand-in for a full disk (as in access-log-writer-thread.spec.ts): every insert fails until it is dropped. */
function fillDisk(path: string): () => void {
  const other = new Database(path);
  other.exec(`CREATE TRIGGER full_disk BEFORE INSERT ON access_log BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
  return () => {
    other.exec('DROP TRIGGER full_disk');
    other.close();
  };
}

const member = { id: 'u-com', name: 'Committee', roles: ['COMMITTEE_MEMBER' as const] };
const propose = (id: string): CriteriaCommand => ({ type: 'ProposeRiskCriteria', criteriaId: id, definition: criteria3x3(), actor: member, at: new Date().toISOString() });
const ctxOf = (at: string) => ({ actor: member, at, correlationId: randomUUID(), causationId: randomUUID() });

/** The access log's queue bounded, and mutations refused while its entries cannot be written (operations probe 10-c M4). */
describe.each(WRITERS)('AccessLogStore backlog, batches written %s', (_where, writer) => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-backlog-'));
    path = join(dir, 'access-log.sqlite');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('while its writes fail: commands refused STORE_UNAVAILABLE with nothing committed, reads queued up to the cap, then refused; past the cap entries are counted, and the count is written once it can be', async () => {
    const signing = loadSigningKeys(join(dir, 'signing-key.pem'));
    const log = await AccessLogStore.open(path, { signing, flushDelayMs: 1, maxQueued: 5, logger: quiet, writeOffLoop: writer() });
    const events = new InMemoryEventStore();
    await events.init();
    const gates = new WriteGates({ whenWritable: () => undefined });
    gates.add(log.backlog);
    const executor = new CommandExecutor(events, { waitFor: async () => undefined }, upcastersOf(FEATURES), gates);
    const run = (id: string) => {
      const command = propose(id);
      return executor.execute({ streamId: criteriaStreamId(id), decider: criteriaDecider }, command, ctxOf(command.at));
    };
    try {
      expect(log.thread).toBe(writer() ? 'worker' : 'main');
      log.record(entry(1));
      expect(log.page({ afterSeq: null, limit: 10 })).toHaveLength(1);
      expect(log.backlog.health()).toMatchObject({ ok: true, queued: 0, maxQueued: 5, dropped: 0 });
      await run('before'); // writable: committed
      const head = await events.headPosition();

      const emptyDisk = fillDisk(path);
      log.record(entry(2));
      await eventually('the failed write to be noticed', () => log.backlog.failing);
      expect(log.backlog.health()).toMatchObject({ ok: false, queued: 1, writesFailing: { since: expect.any(String) } });
      await expect(run('during')).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(run('during')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', maybeWritten: false });
      expect(await events.headPosition()).toBe(head); // nothing committed
      // Reads go on while their entries can be queued.
      expect(() => log.backlog.assertAdmits()).not.toThrow();
      for (let n = 3; n <= 6; n++) log.record(entry(n));
      expect(log.backlog.health()).toMatchObject({ ok: false, queued: 5, dropped: 0 });
      // At the cap: every request refused; an entry is counted, not queued, unless it is an allowed mutation's (a change let through).
      expect(() => log.backlog.assertAdmits()).toThrow(StoreUnavailableError);
      log.record(entry(7));
      log.record(entry(8));
      log.record(entry(9, 'mutation'));
      expect(log.backlog.health()).toMatchObject({ ok: false, queued: 6, dropped: 2 });

      emptyDisk();
      await eventually('the retried batch to be written', () => !log.backlog.failing && log.backlog.health().queued === 0);
      await run('after'); // writable again
      log.record(entry(10));
      const written = log.page({ afterSeq: null, limit: 20 });
      expect(written.map((e) => e.operationName)).toEqual(['Op1', 'Op2', 'Op3', 'Op4', 'Op5', 'Op6', 'Op9', DROPPED_OPERATION, 'Op10']);
      const dropped = written.find((e) => e.operationName === DROPPED_OPERATION)!;
      expect(dropped).toMatchObject({ operationType: 'system', targetIds: ['2', expect.any(String), expect.any(String)], note: expect.stringMatching(/^2 requests from .* are not recorded one by one: the access log's queue was full \(its writes failing\), and requests were refused STORE_UNAVAILABLE meanwhile$/) });
      expect(log.backlog.health()).toMatchObject({ ok: true, queued: 0, dropped: 2 });
    } finally {
      log.close();
      await events.close();
    }
    const again = await AccessLogStore.open(path, { signing });
    try {
      expect(await again.verify()).toMatchObject({ ok: true, entriesChecked: 9 });
    } finally {
      again.close();
    }
  });
});

describe('the access-log plugin at the cap', () => {
  it('refuses an operation before it runs, STORE_UNAVAILABLE (503)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'access-log-backlog-plugin-'));
    const path = join(dir, 'access-log.sqlite');
    const log = await AccessLogStore.open(path, { flushDelayMs: 1, maxQueued: 1, logger: quiet });
    const emptyDisk = fillDisk(path);
    try {
      const listener = (await accessLogPlugin(log).requestDidStart!({} as never)) as GraphQLRequestListener<never>;
      const ctx = { request: { variables: {} }, document: undefined, operation: undefined } as unknown as GraphQLRequestContext<never>;
      await expect(listener.didResolveOperation!(ctx as never)).resolves.toBeUndefined();
      expect(accessLogWsHooks(log).refusedAtCap()).toBeNull();
      log.record(entry(1));
      await eventually('the failed write to be noticed', () => log.backlog.failing);
      const refusal = await (listener.didResolveOperation!(ctx as never) as Promise<void>).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RefusedRequest);
      expect(refusal).toMatchObject({ refusal: { code: 'STORE_UNAVAILABLE' }, extensions: { http: { status: 503 } } });
      // Over graphql-ws, onSubscribe answers with the same refusal.
      expect(accessLogWsHooks(log).refusedAtCap()).toMatchObject({ refusal: { code: 'STORE_UNAVAILABLE' } });
    } finally {
      emptyDisk();
      log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
