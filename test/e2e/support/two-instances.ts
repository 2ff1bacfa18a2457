import { afterAll, beforeAll } from '@jest/globals';
import { signToken } from '../../../src/identity/cli/issue-token.js';
import { buildOnce, startServer, stopServer, type ServerProcess } from './server-process.js';
import { sharedPostgresStore, type SharedPostgresStore } from './shared-postgres.js';
import { TEST_JWT_SECRET, type GraphQLResponse, type TestApp, type TestUser } from './test-app.js';

/**
 * Two server processes (instances `a` and `b`) on one PostgreSQL database for the test file that
 * calls this at its top level or in a describe: started before its tests, stopped after them.
 * The getters are read inside the tests (the instances exist only once beforeAll has run).
 */
export function twoInstancesOnPostgres(database: string): { a: () => ServerProcess; b: () => ServerProcess; store: () => SharedPostgresStore } {
  let store: SharedPostgresStore | undefined;
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;
  beforeAll(async () => {
    buildOnce();
    store = await sharedPostgresStore(database);
    a = await startServer(store.env('a'));
    b = await startServer(store.env('b'));
  }, 120_000);
  afterAll(async () => {
    if (a) await stopServer(a);
    if (b) await stopServer(b);
    await store?.stop();
  });
  return { a: () => a!, b: () => b!, store: () => store! };
}

/** The scenario helpers' view of an application (ok/gql/token), over a server process. */
export function remote(server: ServerProcess): TestApp {
  const token = (user: TestUser) => signToken(TEST_JWT_SECRET, user);
  const gql = async (query: string, variables: Record<string, unknown> = {}, user?: TestUser | string): Promise<GraphQLResponse> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (user) headers.authorization = `Bearer ${typeof user === 'string' ? user : await token(user)}`;
    return (await (await fetch(server.url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) })).json()) as GraphQLResponse;
  };
  const ok = async (query: string, variables: Record<string, unknown>, user: TestUser | string) => {
    const result = await gql(query, variables, user);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data;
  };
  return { url: server.url, gql, ok, token } as unknown as TestApp;
}

/** The value `probe` gives once it gives one; after `timeoutMs`, fails naming `what`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
