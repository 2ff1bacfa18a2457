import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { inFlight } from '../../src/audit/application/access-log-crosscheck.js';
import { cliInProcess } from './support/cli-in-process.js';
import { signToken } from '../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './support/server-process.js';
import { sharedPostgresStore, type SharedPostgresStore } from './support/shared-postgres.js';

/**
 * The unclean-stop marker on PostgreSQL (see access-log-unclean-stop.e2e.spec.ts for SQLite): an
 * instance killed under load, restarted on its DATA_DIR (its stale lock taken over), writes its
 * UncleanStopRecovered entry into the shared log, and verify-access-log acknowledges the changes
 * the kill left without an entry.
 */
const SECRET = 'unclean-stop-pg-secret-0123456789abcdef0123';
const PORT = 4620;
const REGISTER = `mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }`;

async function gql(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return response.json();
}

describe('an unclean stop recorded in the shared PostgreSQL access log', () => {
  let store: SharedPostgresStore | undefined;
  let server: ServerProcess | undefined;
  const saved = inFlight.ms;
  const env = () => store!.env('a', { JWT_SECRET: SECRET, PORT: String(PORT) });

  const cli = () => cliInProcess(['verify-access-log'], env());

  beforeAll(async () => {
    buildOnce();
    store = await sharedPostgresStore('rl_unclean_stop');
    inFlight.ms = 0;
  }, 120_000);
  afterAll(async () => {
    inFlight.ms = saved;
    if (server) await stopServer(server, 'SIGKILL');
    await store?.stop();
  });

  it('acknowledges the changes a SIGKILL under load left without an entry, once the instance restarted', async () => {
    const manager = await signToken(SECRET, { sub: 'mgr', roles: ['ASSET_MANAGER'], department: 'ops' });
    let lost = 0;
    for (let round = 0; round < 4 && lost === 0; round++) {
      server = await startServer(env());
      const url = server.url;
      let answered = 0;
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          try {
            const r = await gql(url, manager, REGISTER, { i: { name: `a-${round}-${w}-${i}`, category: 'SYSTEM', department: 'ops', managerId: 'mgr', confidentiality: 2, integrity: 2, availability: 2 } });
            if (r.data?.registerAsset) answered++;
          } catch {
            return;
          }
        }
      };
      const writers = Array.from({ length: 8 }, (_, w) => writer(w));
      for (const started = Date.now(); answered <= 30 && Date.now() - started < 60_000; ) await new Promise((r) => setTimeout(r, 20));
      await stopServer(server, 'SIGKILL');
      server = undefined;
      stop = true;
      await Promise.all(writers);
      const before = await cli();
      lost = Number(/(\d+) requests? whose changes are in the event log ha(?:s|ve) no access log entry/.exec(before.json.reason ?? '')?.[1] ?? 0);
      if (lost === 0) {
        // Nothing lost this time: a clean restart and stop, then again.
        server = await startServer(env());
        await stopServer(server, 'SIGTERM');
        server = undefined;
      }
    }
    expect(lost).toBeGreaterThan(0);

    server = await startServer(env());
    expect(server.output()).toMatch(/stale DATA_DIR lock taken over/);
    await stopServer(server, 'SIGTERM');
    server = undefined;
    const r = await cli();
    expect(r.json.reason).toBeNull();
    expect(r.code).toBe(0);
    expect(r.json.acknowledged.requests).toBe(lost);
    const client = new pg.Client({ connectionString: store!.databaseUrl });
    await client.connect();
    const markers = (await client.query(`SELECT seq FROM risk_ledger.access_log WHERE operation_name = 'UncleanStopRecovered'`)).rows;
    await client.end();
    expect(r.json.acknowledged.uncleanStops.map((m: { seq: number }) => String(m.seq))).toContain(String(markers[markers.length - 1].seq));
    expect(r.sentence).toMatch(/^OK: .*acknowledged, not a finding\.$/);
  }, 300_000);
});
