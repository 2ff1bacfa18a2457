import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createApp } from '../../../src/server.js';
import { signToken } from '../../../src/identity/cli/issue-token.js';
import { LiveEvents } from '../../../src/shared/application/live-events.js';

/** How long a start, a close or a request may take before the harness says where it waits (TEST_STALL_REPORT_MS). */
const STALL_REPORT_MS = Number(process.env.TEST_STALL_REPORT_MS) || 20_000;

/**
 * `work`, with a line on stderr every STALL_REPORT_MS while it has not settled, naming it (and
 * `detail`). A full run once stalled in process-manager-recovery.e2e (README, "A restart that
 * stalled once") and showed only jest's timeout: the next one says which step and what it waits for.
 */
async function stalled<T>(label: string, work: Promise<T>, detail?: () => string | Promise<string>): Promise<T> {
  const started = Date.now();
  const timer = setInterval(() => {
    void (async () => {
      let more = '';
      try {
        more = detail ? `: ${await detail()}` : '';
      } catch (error) {
        more = `: (detail failed: ${String(error)})`;
      }
      process.stderr.write(`TestApp: ${label} still running after ${Date.now() - started} ms${more}; active resources ${JSON.stringify(countsOf(process.getActiveResourcesInfo()))}\n`);
    })();
  }, STALL_REPORT_MS);
  timer.unref();
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

function countsOf(names: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of names) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

export const TEST_JWT_SECRET = 'test-secret-for-e2e-only-0123456789abcdef';

export interface GraphQLResponse<T = any> {
  data?: T;
  errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[];
}

export interface TestUser {
  sub: string;
  name?: string;
  roles: string[];
  department?: string;
}

/** The real application on a random port, over a real SQLite file in a temp folder (or the memory store). */
export class TestApp {
  private constructor(
    readonly app: INestApplication,
    readonly url: string,
    readonly dataDir: string,
  ) {}

  static async start(options: { store?: 'sqlite' | 'memory' | 'postgres'; dataDir?: string; databaseUrl?: string } = {}): Promise<TestApp> {
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'risk-ledger-e2e-'));
    process.env.EVENT_STORE = options.store ?? 'sqlite';
    if (options.store === 'postgres') {
      if (!options.databaseUrl) throw new Error('TestApp.start: the postgres store needs a databaseUrl');
      process.env.DATABASE_URL = options.databaseUrl;
    } else delete process.env.DATABASE_URL;
    process.env.SQLITE_PATH = join(dataDir, 'events.sqlite');
    process.env.DATA_DIR = dataDir;
    delete process.env.READ_MODEL_PATH;
    process.env.JWT_SECRET = TEST_JWT_SECRET;
    process.env.LOG_LEVEL = process.env.TEST_LOG_LEVEL ?? 'silent';
    let stage = 'createApp';
    const app = await stalled(`TestApp.start on ${dataDir}`, (async () => {
      const created = await createApp();
      stage = 'listen';
      await created.listen(0, '127.0.0.1');
      return created;
    })(), () => `in ${stage}`);
    const address = app.getHttpServer().address() as { port: number };
    return new TestApp(app, `http://127.0.0.1:${address.port}`, dataDir);
  }

  async close(options: { keepData?: boolean } = {}): Promise<void> {
    const server = this.app.getHttpServer() as Server;
    await stalled(`TestApp.close on ${this.dataDir}`, this.app.close(), async () => {
      const connections = await new Promise<number>((resolve) => server.getConnections((_, n) => resolve(n)));
      return `HTTP server ${server.listening ? 'still listening' : 'closed to new connections'}, ${connections} connection(s) open`;
    });
    if (!options.keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }

  token(user: TestUser): Promise<string> {
    return signToken(TEST_JWT_SECRET, user);
  }

  /**
   * The live-event subscriptions the server holds now (LiveEvents' listeners). A subscription
   * without `after` gets only what is committed once it is registered: a test waits for this to
   * grow before it commits what it expects to receive, not for a guessed 200-300 ms (a slower
   * subscribe missed the event and the test hung until its timeout).
   */
  liveSubscriptions(): number {
    return (this.app.get(LiveEvents) as unknown as { listeners: Set<unknown> }).listeners.size;
  }

  async gql<T = any>(query: string, variables: Record<string, unknown> = {}, user?: TestUser | string): Promise<GraphQLResponse<T>> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (user) headers.authorization = `Bearer ${typeof user === 'string' ? user : await this.token(user)}`;
    return stalled(`a request to ${this.url} (${query.replace(/\s+/g, ' ').slice(0, 80)})`, (async () => {
      const answer = await fetch(`${this.url}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      return (await answer.json()) as GraphQLResponse<T>;
    })());
  }

  /** Runs an operation that must succeed and returns its data. */
  async ok<T = any>(query: string, variables: Record<string, unknown>, user: TestUser | string): Promise<T> {
    const result = await this.gql<T>(query, variables, user);
    if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
    return result.data as T;
  }

  wsClient(user: TestUser | string | null): Promise<Client> {
    return (async () => {
      const token = user === null ? undefined : typeof user === 'string' ? user : await this.token(user);
      return createClient({
        url: this.url.replace('http', 'ws') + '/graphql',
        webSocketImpl: WebSocket,
        connectionParams: token ? { Authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: true,
      });
    })();
  }
}

/** The first error's extensions (or fails the test if there is none). */
export function errorOf(result: GraphQLResponse): { message: string; extensions: Record<string, any> } {
  if (!result.errors?.length) throw new Error(`expected an error, got ${JSON.stringify(result.data)}`);
  return { message: result.errors[0]!.message, extensions: result.errors[0]!.extensions ?? {} };
}

export const users = {
  opsManager: { sub: 'mgr-ops', name: 'Ops Manager', roles: ['ASSET_MANAGER'], department: 'ops' },
  financeManager: { sub: 'mgr-fin', name: 'Finance Manager', roles: ['ASSET_MANAGER'], department: 'finance' },
  ciso: { sub: 'ciso', name: 'Chief ISO', roles: ['CISO'] },
  ciso2: { sub: 'ciso-2', name: 'Deputy CISO', roles: ['CISO'] },
  committee: { sub: 'committee-1', name: 'Committee Member', roles: ['COMMITTEE_MEMBER'] },
  riskOwner: { sub: 'owner-1', name: 'Risk Owner', roles: ['RISK_OWNER'] },
  otherOwner: { sub: 'owner-2', name: 'Other Owner', roles: ['RISK_OWNER'] },
  secretary: { sub: 'secretary', name: 'Board Secretary', roles: ['BOARD_SECRETARY'] },
  auditor: { sub: 'auditor', name: 'Auditor', roles: ['AUDITOR'] },
  admin: { sub: 'admin', name: 'Operator', roles: ['ADMIN'] },
} satisfies Record<string, TestUser>;
