import { pagesInTurns } from '../../../src/shared/application/turns.js';
import Database from 'better-sqlite3';
import { turnsDuring } from '../../support/turns.js';
import { RiskRegisterProjection, RiskRegisterQueries } from '../../../src/risk-register/projections/risk-register.projection.js';
import type { RiskState } from '../../../src/risk-register/domain/risk.state.js';

/**
 * byId answers a command with one risk without ranking the whole register: it must show exactly
 * what page() (the register's ranking with ROW_NUMBER over the prioritised risks) shows for it.
 */
describe('RiskRegisterQueries.byId', () => {
  it('gives each risk the priority and flags page() gives it', () => {
    const db = new Database(':memory:');
    new RiskRegisterProjection().setup(db);
    const insert = db.prepare(
      'INSERT INTO risks (id, seq, status, owner_id, prioritised, sort_key, needs_reevaluation, assets_retired, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // Prioritised risks sort before the others ("0|…" against "1|…"), interleaved ranks and dates.
    const risks = [
      { id: 'r-a', prioritised: 1, sortKey: '0|097|0|2026-01-02|r-a', needs: 0, retired: 0 },
      { id: 'r-b', prioritised: 0, sortKey: '1|099|3|2026-01-01|r-b', needs: 1, retired: 0 },
      { id: 'r-c', prioritised: 1, sortKey: '0|097|0|2026-01-01|r-c', needs: 0, retired: 1 },
      { id: 'r-d', prioritised: 1, sortKey: '0|098|1|2026-01-03|r-d', needs: 1, retired: 1 },
      { id: 'r-e', prioritised: 0, sortKey: '1|100|3|2026-01-04|r-e', needs: 0, retired: 0 },
      { id: 'r-f', prioritised: 1, sortKey: '0|096|2|2026-01-05|r-f', needs: 0, retired: 0 },
    ];
    risks.forEach((r, i) => insert.run(r.id, i + 1, r.prioritised ? 'TO_TREAT' : 'IDENTIFIED', 'owner', r.prioritised, r.sortKey, r.needs, r.retired, 1, JSON.stringify({ id: r.id, version: 1 })));
    const queries = new RiskRegisterQueries(db);
    const register = queries.page({}, null, 100).rows;
    expect(register.map((r) => r.state.id)).toEqual(['r-f', 'r-c', 'r-a', 'r-d', 'r-b', 'r-e']);
    for (const row of register) {
      const one = queries.byId(row.state.id)!;
      expect({ state: one.state, sortKey: one.sortKey, priority: one.priority, needsReevaluation: one.needsReevaluation, assetsRetired: one.assetsRetired }).toEqual({
        state: row.state,
        sortKey: row.sortKey,
        priority: row.priority,
        needsReevaluation: row.needsReevaluation,
        assetsRetired: row.assetsRetired,
      });
    }
    expect(register.map((r) => r.priority)).toEqual([1, 2, 3, 4, null, null]);
    expect(queries.byId('nope')).toBeNull();

    // byIdAt: the same row, with the caller's state while the row is at its version, else the row's document.
    for (const row of register) {
      const id = row.state.id;
      const held = { id, version: 1, heldByTheCaller: true } as unknown as RiskState;
      const at = queries.byIdAt(held)!;
      expect(at.state).toBe(held);
      expect({ sortKey: at.sortKey, priority: at.priority, needsReevaluation: at.needsReevaluation, assetsRetired: at.assetsRetired }).toEqual({
        sortKey: row.sortKey,
        priority: row.priority,
        needsReevaluation: row.needsReevaluation,
        assetsRetired: row.assetsRetired,
      });
      const older = queries.byIdAt({ id, version: 0 } as unknown as RiskState)!;
      expect(older.state).toEqual(row.state);
      expect(older.priority).toBe(row.priority);
    }
    expect(queries.byIdAt({ id: 'nope', version: 0 } as unknown as RiskState)).toBeNull();
    db.close();
  });
});

/**
 * allStates reads the whole register a slice per turn of the event loop (probe p10: the register
 * parsed in one task held every other request): in register order, every risk exactly once even
 * when risks move in the order between turns, and other tasks run meanwhile.
 */
describe('RiskRegisterQueries.allStates', () => {
  it('reads every risk once, in register order, letting the event loop turn', async () => {
    const db = new Database(':memory:');
    new RiskRegisterProjection().setup(db);
    const insert = db.prepare('INSERT INTO risks (id, seq, status, owner_id, prioritised, sort_key, needs_reevaluation, assets_retired, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const n = 1_234;
    // Identification order (seq) is not register order (sort_key): i * 7919 mod n shuffles them.
    for (let i = 0; i < n; i++) {
      const key = String((i * 7919) % n).padStart(5, '0');
      insert.run(`r-${i}`, i + 1, 'IDENTIFIED', 'owner', 0, `1|${key}|r-${i}`, 0, 0, 1, JSON.stringify({ id: `r-${i}`, version: 1 }));
    }
    const queries = new RiskRegisterQueries(db);
    const inOrder = queries.page({}, null, n).rows.map((r) => r.state.id);

    // Meanwhile, other tasks: each turn moves a risk to the end of the order and another to the front.
    const move = db.prepare('UPDATE risks SET sort_key = ? WHERE id = ?');
    const [read, turns] = await turnsDuring(
      () => queries.allStates(),
      (turn) => {
        move.run(`2|${turn}`, `r-${turn}`);
        move.run(`0|${turn}`, `r-${n - turn}`);
      },
    );

    expect(turns).toBeGreaterThan(3);
    expect(read.map((s) => s.id)).toEqual(inOrder);
    expect(queries.stateOf('r-7')).toEqual({ id: 'r-7', version: 1 });
    expect(queries.stateOf('nope')).toBeNull();
    db.close();
  });

  it('is one read for the calls on the read models as they stand, a new one after a write (probe p12: 95 aliases, 95 copies, out of memory)', async () => {
    const db = new Database(':memory:');
    new RiskRegisterProjection().setup(db);
    const insert = db.prepare('INSERT INTO risks (id, seq, status, owner_id, prioritised, sort_key, needs_reevaluation, assets_retired, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (let i = 0; i < 600; i++) insert.run(`r-${i}`, i + 1, 'IDENTIFIED', 'owner', 0, `1|${String(i).padStart(4, '0')}`, 0, 0, 1, JSON.stringify({ id: `r-${i}`, version: 1 }));
    // The aliases of one request: each its own RiskRegisterQueries on the same connection.
    const reads = await Promise.all(Array.from({ length: 20 }, () => new RiskRegisterQueries(db).allStates()));
    expect(new Set(reads).size).toBe(1);
    expect(reads[0]).toHaveLength(600);
    // Right after, unchanged: the same read; after a write, a read of what was written.
    expect(await new RiskRegisterQueries(db).allStates()).toBe(reads[0]);
    db.prepare('UPDATE risks SET doc = ? WHERE id = ?').run(JSON.stringify({ id: 'r-3', version: 2 }), 'r-3');
    const after = await new RiskRegisterQueries(db).allStates();
    expect(after).not.toBe(reads[0]);
    expect(after.find((r) => r.id === 'r-3')).toEqual({ id: 'r-3', version: 2 });
    // Another database (a replayed past register) is never given this one's read.
    const other = new Database(':memory:');
    new RiskRegisterProjection().setup(other);
    expect(await new RiskRegisterQueries(other).allStates()).toEqual([]);
    db.close();
    other.close();
  });
});

/**
 * page() ranks from the register-order index (the prioritised risks before the page's first row,
 * then between rows) instead of ROW_NUMBER over the whole register (probe p10: 80-450 ms a page
 * at 15,000 risks): every row, on any page and under any filter, has the rank the whole register gives it.
 */
describe('RiskRegisterQueries.page ranks', () => {
  it('gives every row of every page, filtered or not, its priority in the whole register', () => {
    const db = new Database(':memory:');
    new RiskRegisterProjection().setup(db);
    const insert = db.prepare('INSERT INTO risks (id, seq, status, owner_id, prioritised, sort_key, needs_reevaluation, assets_retired, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const statuses = ['TO_TREAT', 'IN_PLAN', 'ACCEPTED', 'IDENTIFIED'];
    let seed = 7;
    const random = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    const all: { id: string; key: string; prioritised: boolean; status: string; owner: string }[] = [];
    for (let i = 0; i < 400; i++) {
      const status = statuses[random(4)]!;
      const prioritised = status === 'TO_TREAT' || status === 'IN_PLAN';
      const key = `${prioritised ? 0 : 1}|${String(random(1000)).padStart(3, '0')}|r-${i}`;
      const owner = `o-${random(3)}`;
      all.push({ id: `r-${i}`, key, prioritised, status, owner });
      insert.run(`r-${i}`, i + 1, status, owner, prioritised ? 1 : 0, key, 0, 0, 1, JSON.stringify({ id: `r-${i}`, version: 1 }));
    }
    const expected = (id: string) => {
      const r = all.find((x) => x.id === id)!;
      return r.prioritised ? all.filter((x) => x.prioritised && x.key < r.key).length + 1 : null;
    };
    const queries = new RiskRegisterQueries(db);
    for (const filter of [{}, { status: 'IN_PLAN' }, { ownerId: 'o-1' }, { status: 'ACCEPTED' }] as const) {
      for (const size of [1, 7, 50, 500]) {
        const seen: string[] = [];
        for (let after: string | null = null; ; ) {
          const { rows, total } = queries.page(filter, after, size);
          expect(total).toBe(all.filter((x) => Object.entries(filter).every(([k, v]) => (k === 'status' ? x.status : x.owner) === v)).length);
          for (const row of rows) {
            expect([row.state.id, row.priority]).toEqual([row.state.id, expected(row.state.id)]);
            expect(queries.byId(row.state.id)!.priority).toBe(row.priority);
          }
          seen.push(...rows.map((r) => r.state.id));
          if (rows.length < size) break;
          after = rows.at(-1)!.sortKey;
        }
        expect(seen).toHaveLength(new Set(seen).size);
      }
    }
    db.close();
  });
});

/**
 * Risks may hold megabytes of controls: the register's reads bound what one task parses
 * (statesAfter, for the deadline watch) and what one page of risks may hold (page, for risks(first)).
 * Hostile-input probe, 2026-12-04.
 */
describe('RiskRegisterQueries bounds by size', () => {
  const registerOf = (sizes: number[]) => {
    const db = new Database(':memory:');
    new RiskRegisterProjection().setup(db);
    const insert = db.prepare('INSERT INTO risks (id, seq, status, owner_id, prioritised, sort_key, needs_reevaluation, assets_retired, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    sizes.forEach((size, i) => insert.run(`r-${i}`, i + 1, 'IDENTIFIED', 'owner', 0, `1|${i}`, 0, 0, 1, JSON.stringify({ id: `r-${i}`, version: 1, description: 'x'.repeat(size) })));
    return new RiskRegisterQueries(db);
  };

  it('statesAfter ends a page after the risk that brings its text to maxChars, at least one risk a page; only an empty page ends', () => {
    const queries = registerOf([10, 1_000, 1_000, 10, 5_000, 10]);
    const pages: string[][] = [];
    for (let after = 0; ; ) {
      const page = queries.statesAfter(after, 4, 1_500);
      if (page.length === 0) break;
      pages.push(page.map((r) => r.state.id));
      after = page[page.length - 1]!.seq;
    }
    expect(pages).toEqual([['r-0', 'r-1', 'r-2'], ['r-3', 'r-4'], ['r-5']]);
    expect(queries.statesAfter(0, 4).map((r) => r.state.id)).toEqual(['r-0', 'r-1', 'r-2', 'r-3']);
  });

  it('page refuses a page whose risks pass maxBytes, while it reads them (QUERY_TOO_COMPLEX)', () => {
    const queries = registerOf([10, 1_000, 1_000, 10]);
    expect(queries.page({}, null, 10, undefined, 5_000).rows).toHaveLength(4);
    expect(() => queries.page({}, null, 10, undefined, 1_500)).toThrow(expect.objectContaining({ code: 'QUERY_TOO_COMPLEX', message: expect.stringContaining('3 risks read of 4') }));
  });

  it('page ends early once its risks hold endAtChars (at least one risk), saying so; pagesInTurns reads on to the end', async () => {
    const queries = registerOf([10, 1_000, 1_000, 10, 5_000, 10]);
    const first = queries.page({}, null, 4, undefined, Infinity, 1_500);
    expect([first.rows.map((r) => r.state.id), first.cut]).toEqual([['r-0', 'r-1', 'r-2'], true]);
    expect(queries.page({}, null, 4).cut).toBe(false);
    const pages: string[][] = [];
    const all = await pagesInTurns(4, (after, limit) => {
      const { rows, cut } = queries.page({}, after, limit, undefined, Infinity, 1_500);
      pages.push(rows.map((r) => r.state.id));
      return { items: rows, last: rows.at(-1)?.sortKey ?? null, cut };
    });
    expect(all.map((r) => r.state.id)).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5']);
    expect(pages).toEqual([['r-0', 'r-1', 'r-2'], ['r-3', 'r-4'], ['r-5']]);
  });
});

