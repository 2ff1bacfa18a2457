/**
 * A real PostgreSQL for the tests and the benchmark.
 *
 * - With `TEST_DATABASE_URL` (or `DATABASE_URL`) set, that server is used: each fixture gets a
 *   fresh database created on it (the URL's user must be allowed to CREATE DATABASE) and dropped
 *   at the end.
 * - Otherwise a throwaway cluster is started from the Debian binaries (`/usr/lib/postgresql/<v>/bin`,
 *   or `PG_BIN`), on a free loopback port, in a temp folder, and stopped (`-m fast`) and removed
 *   at the end. As root the binaries run as user `postgres` (initdb refuses root), the data
 *   folder owned by it; as another user they run as that user.
 *
 * When neither is possible (no URL and no binaries) startPostgres() THROWS: the suites that need
 * PostgreSQL fail loudly instead of being skipped (CI installs the `postgresql` package).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

export interface PostgresServer {
  /** Connection string of the maintenance database (`postgres`). */
  readonly adminUrl: string;
  /** Where it came from: a started cluster or a given URL. */
  readonly origin: 'started' | 'given';
  /** Creates a fresh, empty database and returns its connection string. */
  createDatabase(prefix?: string): Promise<string>;
  /** Drops the databases this helper created; stops and removes a started cluster. Idempotent. */
  stop(): Promise<void>;
  /**
   * A started cluster only (throws with a given URL): `pg_ctl stop -m fast` (every session is
   * terminated with 57P01, the port refuses connections) and `pg_ctl start` again on the same port,
   * or both at once (`pg_ctl restart -m fast`). For the outage tests.
   */
  halt(): void;
  resume(): void;
  restart(): void;
}

const DEFAULT_ROOT = '/usr/lib/postgresql';

/** The folder of initdb/pg_ctl: PG_BIN, else the newest /usr/lib/postgresql/<v>/bin. */
export function findPostgresBinaries(): string | null {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) return existsSync(join(fromEnv, 'pg_ctl')) ? fromEnv : null;
  if (!existsSync(DEFAULT_ROOT)) return null;
  const versions = readdirSync(DEFAULT_ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(DEFAULT_ROOT, v, 'bin', 'pg_ctl')) && existsSync(join(DEFAULT_ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(DEFAULT_ROOT, versions[0]!, 'bin') : null;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary, as user postgres when we are root. */
function runPg(bin: string, args: string[]): void {
  const [file, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const result = spawnSync(file, argv, { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) {
    throw new Error(`${[file, ...argv].join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.stdout || result.error?.message}`);
  }
}

/** A folder the cluster's user owns, mode 700. */
function ownedDir(path: string): void {
  if (isRoot()) execFileSync('install', ['-d', '-o', 'postgres', '-g', 'postgres', '-m', '700', path]);
  else execFileSync('install', ['-d', '-m', '700', path]);
}

const clusters = new Set<string>();
let exitHookInstalled = false;
function installExitHook(pgCtl: string): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Best effort when the process ends without stop() (a crashed or interrupted run).
  process.on('exit', () => {
    for (const dataDir of clusters) {
      const argv = ['-D', dataDir, 'stop', '-m', 'immediate'];
      if (isRoot()) spawnSync('runuser', ['-u', 'postgres', '--', pgCtl, ...argv], { stdio: 'ignore' });
      else spawnSync(pgCtl, argv, { stdio: 'ignore' });
    }
  });
}

async function startCluster(): Promise<{ adminUrl: string; stop: () => void; halt: () => void; resume: () => void; restart: () => void }> {
  const bin = findPostgresBinaries();
  if (!bin) {
    throw new Error(
      'PostgreSQL server binaries not found (looked in PG_BIN and /usr/lib/postgresql/<version>/bin). ' +
        'Install them (`apt-get install -y postgresql`) or give TEST_DATABASE_URL=postgres://... of a server to use.',
    );
  }
  const root = mkdtempSync(join(tmpdir(), 'risk-ledger-pg-'));
  if (isRoot()) execFileSync('chmod', ['755', root]);
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  const logFile = join(root, 'log', 'postgres.log');
  ownedDir(dataDir);
  ownedDir(socketDir);
  ownedDir(join(root, 'log'));
  runPg(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const pgCtl = join(bin, 'pg_ctl');
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const options = `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=64MB`;
    try {
      runPg(pgCtl, ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']);
    } catch (error) {
      lastError = new Error(`${(error as Error).message}\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').slice(-2000) : ''}`);
      continue; // most likely the port was taken in between: try another
    }
    clusters.add(dataDir);
    installExitHook(pgCtl);
    return {
      adminUrl: `postgresql://postgres@127.0.0.1:${port}/postgres`,
      halt: () => runPg(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop']),
      resume: () => runPg(pgCtl, ['-D', dataDir, '-l', logFile, '-o', options, '-w', '-t', '60', 'start']),
      restart: () => runPg(pgCtl, ['-D', dataDir, '-l', logFile, '-o', options, '-m', 'fast', '-w', '-t', '60', 'restart']),
      stop: () => {
        try {
          runPg(pgCtl, ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
        } finally {
          clusters.delete(dataDir);
          rmSync(root, { recursive: true, force: true });
        }
      },
    };
  }
  rmSync(root, { recursive: true, force: true });
  throw lastError;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Starts (or connects to) a PostgreSQL server for one test file or benchmark. */
export async function startPostgres(): Promise<PostgresServer> {
  const given = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  const started = given ? null : await startCluster();
  const adminUrl = given ?? started!.adminUrl;
  const created: string[] = [];
  let stopped = false;

  const admin = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };

  const cluster = () => {
    if (!started) throw new Error('halt/resume/restart need a cluster started by the tests (not TEST_DATABASE_URL)');
    return started;
  };

  return {
    adminUrl,
    origin: started ? 'started' : 'given',
    async createDatabase(prefix = 'rl_test') {
      const name = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
      await admin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`));
      created.push(name);
      return withDatabase(adminUrl, name);
    },
    halt: () => cluster().halt(),
    resume: () => cluster().resume(),
    restart: () => cluster().restart(),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (started) {
        started.stop();
        return;
      }
      await admin(async (c) => {
        for (const name of created) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      });
    },
  };
}
