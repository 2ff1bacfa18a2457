import { afterAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../src/event-store/sqlite/sqlite-event-store.js';
import { ExpectedVersion } from '../../src/event-store/event-store.port.js';
import { loadSigningKeys } from '../../src/event-store/signing.js';
import { assetStreamId } from '../../src/asset-inventory/domain/asset.decider.js';
import { assetNameStreamId } from '../../src/asset-inventory/domain/asset-name.decider.js';
import { assetsWithoutReservation } from '../../src/asset-inventory/application/earlier-asset-names.js';
import { nameKey } from '../../src/shared/domain/name-key.js';
import { TestApp, errorOf, users } from './support/test-app.js';
import { eventually } from '../support/eventually.js';

/**
 * Installations upgraded from a build before name reservations (2026-11-30) or before invisible
 * characters were dropped from the name key (2026-12-03): their active assets' names must block a
 * new asset of the same name once this build runs (Art.14(2)), which it does by appending the
 * missing reservations when it takes the lead of the reactions (earlier-asset-names.ts). The log
 * is written here as those builds wrote it: AssetRegistered alone, on a real SQLite file.
 */
const REGISTER = `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id name } }`;
const RETIRE = `mutation($input: RetireAssetInput!) { retireAsset(input: $input) { id status } }`;
const EVENTS = `query($types: [String!], $after: String) { events(types: $types, first: 500, after: $after) {
  edges { node { type streamId position data metadata { actor { id } causationId } } } pageInfo { hasNextPage endCursor } } }`;

const at = '2026-11-20T09:00:00.000Z';
const metadata = () => ({ actor: { id: 'mgr-ops', name: 'Ops Manager', roles: ['ASSET_MANAGER'] }, occurredAt: at, correlationId: randomUUID(), causationId: randomUUID() });
const input = (name: string, department = 'ops') => ({ name, description: 'd', category: 'SYSTEM', department, managerId: 'mgr-ops', confidentiality: 2, integrity: 2, availability: 2 });
const managerOf = (department: string) => (department === 'ops' ? users.opsManager : users.financeManager);

interface Earlier {
  id: string;
  eventId: string;
}

/** Appends an asset as a build before reservations did: its AssetRegistered alone (and its retirement, without a release). */
async function registerAsEarlierBuild(store: SqliteEventStore, name: string, department = 'ops', retired = false): Promise<Earlier> {
  const id = randomUUID();
  const data = { assetId: id, name, description: 'd', category: 'SYSTEM', department, managerId: 'mgr-ops', confidentiality: 2, integrity: 2, availability: 2, value: 2, registeredBy: 'mgr-ops', registeredAt: at };
  const eventId = randomUUID();
  await store.append(assetStreamId(id), [{ eventId, type: 'AssetRegistered', schemaVersion: 1, data, metadata: metadata() }], { expectedVersion: ExpectedVersion.noStream });
  if (retired) {
    const retiredData = { assetId: id, reason: 'decommissioned', retiredBy: 'mgr-ops', retiredAt: at };
    await store.append(assetStreamId(id), [{ eventId: randomUUID(), type: 'AssetRetired', schemaVersion: 1, data: retiredData, metadata: metadata() }], { expectedVersion: ExpectedVersion.exact(0) });
  }
  return { id, eventId };
}

/** The first start on the earlier build's log: its access log is not in DATA_DIR (the earlier build's was never copied here), acknowledged as at any such start. */
async function firstStart(dir: string): Promise<TestApp> {
  process.env.ACCESS_LOG_RESET = '1';
  try {
    return await TestApp.start({ dataDir: dir });
  } finally {
    delete process.env.ACCESS_LOG_RESET;
  }
}

/** The installation's store as the earlier build wrote it, signed with the key in DATA_DIR as every build since 2026-11-27. */
async function earlierStore(dir: string): Promise<SqliteEventStore> {
  const store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), signer: loadSigningKeys(join(dir, 'signing-key.pem')).signer });
  await store.init();
  return store;
}

type Logged = { type: string; streamId: string; position: string; data: { assetId: string }; metadata: { actor: { id: string }; causationId: string } };

async function events(t: TestApp, types: string[]): Promise<Logged[]> {
  const all: Logged[] = [];
  for (let after: string | null = null; ; ) {
    const page: any = (await t.ok(EVENTS, { types, after }, users.auditor)).events;
    all.push(...page.edges.map((e: { node: Logged }) => e.node));
    if (!page.pageInfo.hasNextPage) return all;
    after = page.pageInfo.endCursor;
  }
}

describe('asset names registered by earlier builds are reserved on upgrade (Art.14(2))', () => {
  const dirs: string[] = [];
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'risk-ledger-names-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('each active asset gets its name, the first of two sharing one keeps it, a retired one takes none; a second start appends nothing', async () => {
    const dir = folder();
    const file = join(dir, 'events.sqlite');
    const store = await earlierStore(dir);
    const hot = await registerAsEarlierBuild(store, 'Hot wallet');
    const ledger = await registerAsEarlierBuild(store, 'Ledger', 'ops', true);
    const vault = await registerAsEarlierBuild(store, 'Vault');
    const vaultAgain = await registerAsEarlierBuild(store, ' VAULT ');
    const finance = await registerAsEarlierBuild(store, 'Hot wallet', 'finance');
    // Reserved by the build of 2026-12-02 under the key of then, which kept the zero-width space.
    const keystore = await registerAsEarlierBuild(store, 'Key\u200bstore');
    const olderKey = `reservation-asset-name-${'0'.repeat(40)}`;
    const olderReservation = { assetId: keystore.id, department: 'ops', name: 'Key\u200bstore', key: 'key\u200bstore', reservedAt: at };
    await store.append(olderKey, [{ eventId: randomUUID(), type: 'AssetNameReserved', schemaVersion: 1, data: olderReservation, metadata: metadata() }], { expectedVersion: ExpectedVersion.noStream });
    await store.close();

    let t = await firstStart(dir);
    try {
      // Appended in the order the assets were registered, by the process manager, each caused by its AssetRegistered.
      await eventually('the reservations of the earlier assets', async () => (await events(t, ['AssetNameReserved'])).length === 5);
      const found = await events(t, ['AssetNameReserved']);
      expect(found.slice(1).map((r) => r.data.assetId)).toEqual([hot.id, vault.id, finance.id, keystore.id]);
      for (const [r, asset] of found.slice(1).map((r, i) => [r, [hot, vault, finance, keystore][i]!] as const)) {
        expect(r.metadata).toEqual({ actor: { id: 'system:process-manager' }, causationId: asset.eventId });
      }
      expect(found[4]!.streamId).toBe(assetNameStreamId('ops', 'Keystore'));

      const refusal = async (name: string, department = 'ops') => errorOf(await t.gql(REGISTER, { input: input(name, department) }, managerOf(department))).extensions;
      for (const name of ['hot wallet', 'VAULT', 'Keystore']) expect(await refusal(name)).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_NAME_TAKEN' });
      expect(await refusal('HOT WALLET', 'finance')).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_NAME_TAKEN' });
      // The retired asset took nothing: its name is free.
      expect((await t.ok(REGISTER, { input: input('ledger') }, users.opsManager)).registerAsset.name).toBe('ledger');
      // A reserved name is released when its asset retires, as for any asset.
      await t.ok(RETIRE, { input: { assetId: hot.id, reason: 'replaced' } }, users.opsManager);
      expect((await t.ok(REGISTER, { input: input('Hot wallet') }, users.opsManager)).registerAsset.name).toBe('Hot wallet');
    } finally {
      await t.close({ keepData: true });
    }

    // The one left without a reservation is the second 'Vault': the name stays with the first.
    const reread = await earlierStore(dir);
    expect((await assetsWithoutReservation(reread, () => false)).map((a) => a.assetId)).toEqual([vaultAgain.id]);
    await reread.close();
    expect(ledger.id).not.toBe(vaultAgain.id);

    t = await TestApp.start({ dataDir: dir });
    try {
      const before = (await events(t, ['AssetNameReserved'])).length;
      await t.close({ keepData: true }); // stop waits for the upgrade's run to end
      t = await TestApp.start({ dataDir: dir });
      expect((await events(t, ['AssetNameReserved'])).length).toBe(before);
    } finally {
      await t.close({ keepData: true });
    }
  });

  it('16 clients registering the earlier assets\' names while the upgrade runs: each name is held once, by the earlier asset or by one new one', async () => {
    const dir = folder();
    const store = await earlierStore(dir);
    const EARLIER = 3_000;
    const earlier: Earlier[] = [];
    for (let i = 0; i < EARLIER; i++) earlier.push(await registerAsEarlierBuild(store, `Asset ${i}`));
    await store.close();

    const t = await firstStart(dir);
    try {
      // Once the upgrade is a few hundred assets in, names around where it is (it goes in the order
      // of registration), behind it and ahead, each asked for by two clients, and a few of the
      // earlier assets retired meanwhile (a retired one must not keep its name).
      let reached = 0;
      await eventually('the upgrade to be under way', async () => (reached = (await events(t, ['AssetNameReserved'])).length) >= 300, 30_000, 2);
      const raced = Array.from({ length: 80 }, (_, k) => Math.min(reached - 200, EARLIER - 600) + k * 6);
      // And earlier assets retired ahead of it, after it listed them: each must take nothing.
      const retiredAhead = Array.from({ length: 10 }, (_, k) => Math.min(reached + 700, EARLIER - 20) + k);
      const retiring = new Set([raced[2]!, raced[30]!, raced[61]!, ...retiredAhead]);
      const registered = new Map<string, number>(); // new asset → the earlier asset whose name it took
      const retire = (i: number) => async () => void (await t.ok(RETIRE, { input: { assetId: earlier[i]!.id, reason: 'replaced' } }, users.opsManager));
      const jobs: Array<() => Promise<void>> = [
        ...retiredAhead.map(retire),
        ...raced.flatMap((i) => [`ASSET ${i}`, `asset  ${i}`]).map((name) => async () => {
          const answer = await t.gql(REGISTER, { input: input(name) }, users.opsManager);
          if (answer.errors) expect(errorOf(answer).extensions).toMatchObject({ code: 'RULE_VIOLATION', rule: 'ASSET_NAME_TAKEN' });
          else registered.set(answer.data.registerAsset.id, Number(name.split(/\s+/)[1]));
        }),
        ...[raced[2]!, raced[30]!, raced[61]!].map(retire),
      ];
      let next = 0;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }));

      // Folded per name: who holds it, and a reservation never taken while another asset held it.
      const fold = async () => {
        const holders = new Map<string, string>();
        const twice: string[] = [];
        for (const e of await events(t, ['AssetNameReserved', 'AssetNameReleased'])) {
          if (e.type === 'AssetNameReleased') holders.delete(e.streamId);
          else if (holders.has(e.streamId)) twice.push(e.streamId);
          else holders.set(e.streamId, e.data.assetId);
        }
        return { holders, twice };
      };
      const nameOf = (i: number) => assetNameStreamId('ops', `Asset ${i}`);
      // Done once every earlier asset still active holds its name or sees it held by a new one.
      await eventually('the upgrade to give every active earlier asset\'s name a holder', async () => {
        const { holders } = await fold();
        return earlier.every((_, i) => retiring.has(i) || holders.has(nameOf(i)));
      }, 60_000, 100);
      const { holders, twice } = await fold();
      expect(twice).toEqual([]);
      for (const i of raced) {
        const winners = [...registered].filter(([, taken]) => taken === i).map(([id]) => id);
        expect([i, winners.length <= 1]).toEqual([i, true]);
        const holder = holders.get(nameOf(i));
        if (retiring.has(i)) expect([i, holder]).toEqual([i, winners[0]]);
        else expect([i, holder]).toEqual([i, winners[0] ?? earlier[i]!.id]);
      }
      for (const i of retiredAhead) expect([i, holders.get(nameOf(i))]).toEqual([i, undefined]);
      for (let i = 0; i < EARLIER; i++) if (!retiring.has(i) && !raced.includes(i)) expect([i, holders.get(nameOf(i))]).toEqual([i, earlier[i]!.id]);
      // Both sides won names: those the upgrade had passed, and some ahead of it (2026-12-07: 36 and 42 of 80).
      expect(raced.filter((i) => holders.get(nameOf(i)) === earlier[i]!.id).length).toBeGreaterThan(0);
      expect(registered.size).toBeGreaterThan(0);
      // The upgrade really ran while the clients did: it committed between their first and last.
      const found = await events(t, ['AssetNameReserved']);
      const ofClients = found.filter((e) => e.metadata.actor.id === users.opsManager.sub).map((e) => e.position);
      expect(found.some((e) => e.metadata.actor.id === 'system:process-manager' && e.position > ofClients[0]! && e.position < ofClients.at(-1)!)).toBe(true);
    } finally {
      await t.close();
    }
  }, 120_000);
});
