import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AccessLogStore, type AccessRecord } from '../../../src/audit/application/access-log.js';
import { ACCESS_LOG_VERIFY_PAGE, anchorPathFor, verifyAccessLogDatabase } from '../../../src/audit/application/access-log-chain.js';
import { loadSigningKeys, type SigningKeys } from '../../../src/event-store/signing.js';

const ENTRIES = 1_000;

const entry = (n: number): AccessRecord => ({
  at: new Date().toISOString(), actorId: null, actorName: null, actorRoles: null, operationName: null, operationType: 'query',
  fields: ['me'], targetIds: [], outcome: 'DENIED', errorCode: 'UNAUTHENTICATED', correlationId: `req-${n}`,
});

/** ENTRIES entries in signed batches of 10 (a flood of refused requests makes small batches). */
function fill(log: AccessLogStore, from = 1, count = ENTRIES): void {
  for (let i = from; i < from + count; i++) {
    log.record(entry(i));
    if (i % 10 === 0) log.flush();
  }
  log.flush();
}

/** Counts the turns of the event loop until `work` settles: a turn is a chance for another request to run. */
async function turnsDuring<T>(work: () => Promise<T>, onTurn: (turn: number) => void = () => undefined): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let done = false;
  const tick = () => {
    if (done) return;
    onTurn(++turns);
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    return { value: await work(), turns };
  } finally {
    done = true;
  }
}

/**
 * Anyone can grow the access log (every refused request is an entry), and verifyAccessLog walked
 * it in one go on the event loop: 0.8 s at 40,000 entries, during which no other request was
 * answered. The walk now reads pages of ACCESS_LOG_VERIFY_PAGE rows and hands the loop back after
 * each (and after every 2 ms of hashing), with the same verdict as the CLI's walk in one go.
 */
describe('AccessLogStore.verify(): in slices, never blocking other requests', () => {
  let dir: string;
  let signing: SigningKeys;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'access-log-slices-'));
    signing = loadSigningKeys(join(dir, 'signing-key.pem'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hands the event loop back between pages, and other requests read and write the log meanwhile', async () => {
    const log = new AccessLogStore(':memory:', { signing, flushDelayMs: 60_000, maxBatch: 1_000_000 });
    try {
      fill(log);
      let written = 0;
      const { value: report, turns } = await turnsDuring(
        () => log.verify(),
        () => {
          // Another request, served while the verification runs: it is recorded and written, and
          // an auditor lists the log.
          log.record(entry(ENTRIES + ++written));
          log.flush();
          expect(log.page({ afterSeq: null, limit: 1 })).toHaveLength(1);
        },
      );
      // At least one turn after every full page (a walk in one go gives none).
      expect(turns).toBeGreaterThanOrEqual(Math.floor(ENTRIES / ACCESS_LOG_VERIFY_PAGE));
      expect(written).toBe(turns);
      // The verdict is on the log as it was when the walk began: the batches written meanwhile
      // neither count nor look unsigned; the next verification covers them.
      expect(report).toMatchObject({ ok: true, entriesChecked: ENTRIES, headSeq: ENTRIES, firstBrokenSeq: null, reason: null });
      expect(await log.verify()).toMatchObject({ ok: true, entriesChecked: ENTRIES + written, headSeq: ENTRIES + written });
    } finally {
      log.close();
    }
  });

  it('concurrent verifications share one walk', async () => {
    const log = new AccessLogStore(':memory:', { signing, flushDelayMs: 60_000, maxBatch: 1_000_000 });
    try {
      fill(log);
      const first = log.verify();
      const second = log.verify();
      expect(second).toBe(first);
      expect(await second).toMatchObject({ ok: true, entriesChecked: ENTRIES });
      // Once it is over, the next call walks again.
      const third = log.verify();
      expect(third).not.toBe(first);
      expect(await third).toEqual(await first);
    } finally {
      log.close();
    }
  });

  it('gives the verdict of the walk in one go (the CLI\'s) on a log edited in the middle, with its anchor', async () => {
    const path = join(dir, 'access-log.sqlite');
    const log = await AccessLogStore.open(path, { signing, flushDelayMs: 60_000, maxBatch: 1_000_000 });
    fill(log);
    log.close();
    const attacker = new Database(path);
    attacker.exec('DROP TRIGGER access_log_no_update');
    attacker.prepare(`UPDATE access_log SET outcome = 'ALLOWED', error_code = NULL WHERE seq = 700`).run();
    attacker.close();

    const offline = new Database(path, { readonly: true });
    const inOneGo = verifyAccessLogDatabase(offline, { trusted: signing.trusted, anchorPath: anchorPathFor(path) });
    offline.close();
    expect(inOneGo).toMatchObject({ ok: false, firstBrokenSeq: 700, entriesChecked: 700 });
    expect(inOneGo.reason).toMatch(/entry 700 was altered/);

    // The server's own log says so too, at error, once per finding (auditor probe 10-b L1: only the caller heard it).
    const errors: unknown[][] = [];
    const logger = { error: (...args: unknown[]) => void errors.push(args), warn: () => undefined };
    const server = new AccessLogStore(path, { signing, anchorPath: anchorPathFor(path), logger });
    try {
      const { value: sliced, turns } = await turnsDuring(() => server.verify());
      expect(sliced).toEqual(inOneGo);
      expect(turns).toBeGreaterThanOrEqual(Math.floor(700 / ACCESS_LOG_VERIFY_PAGE));
      expect(await server.verify()).toEqual(inOneGo);
      expect(errors).toEqual([['access log verification failed: it is not intact evidence', { firstBrokenSeq: 700, reason: inOneGo.reason, entriesChecked: 700 }]]);
    } finally {
      server.close();
    }
  });
});
