/**
 * docker/compose.yml and docker/Dockerfile: parsed with a YAML parser and checked for what the
 * deployment relies on; validated by `docker-compose config` as well when that binary is installed
 * (Debian's docker-compose 1.29 validates without a Docker engine).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');
const composePath = join(root, 'docker', 'compose.yml');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] | string };
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
}

const compose = parse(readFileSync(composePath, 'utf8'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

function hasDockerCompose(): boolean {
  return spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
}

describe('docker/compose.yml', () => {
  it('has the app on SQLite by default, and the postgres and kurrentdb profiles with an app on each', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['app', 'postgres', 'kurrentdb', 'app-postgres', 'app-kurrentdb']));
    expect(services.app!.profiles).toBeUndefined();
    expect(services.app!.environment).toMatchObject({ EVENT_STORE: 'sqlite', SQLITE_PATH: '/data/events.sqlite' });

    expect(services.postgres!.profiles).toEqual(['postgres']);
    expect(services.postgres!.image).toMatch(/^postgres:15\b/);
    expect(services['app-postgres']!.profiles).toEqual(['postgres']);
    expect(services['app-postgres']!.environment).toMatchObject({ EVENT_STORE: 'postgres' });
    expect(services['app-postgres']!.environment!.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    expect(services['app-postgres']!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });

    expect(services.kurrentdb!.profiles).toEqual(['kurrentdb']);
    expect(services.kurrentdb!.image).toMatch(/kurrentdb|eventstore/);
    expect(services.kurrentdb!.environment).toMatchObject({ KURRENTDB_INSECURE: 'true' });
    expect(services['app-kurrentdb']!.profiles).toEqual(['kurrentdb']);
    expect(services['app-kurrentdb']!.environment).toMatchObject({ EVENT_STORE: 'kurrentdb', KURRENTDB_CONNECTION_STRING: 'kurrentdb://kurrentdb:2113?tls=false' });
    expect(services['app-kurrentdb']!.depends_on).toEqual({ kurrentdb: { condition: 'service_healthy' } });
  });

  it('health-checks every service (the apps through GET /health/ready)', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ name, healthcheck: Boolean(service.healthcheck?.test) }).toEqual({ name, healthcheck: true });
      if (name.startsWith('app')) expect(JSON.stringify(service.healthcheck!.test)).toContain('/health/ready');
    }
  });

  it('keeps state in named volumes and takes JWT_SECRET from the environment', () => {
    const named = Object.keys(compose.volumes);
    for (const [name, service] of Object.entries(services)) {
      expect({ name, volumes: (service.volumes ?? []).length > 0 }).toEqual({ name, volumes: true });
      for (const v of service.volumes ?? []) expect(named).toContain(v.split(':')[0]);
      if (name.startsWith('app')) {
        expect(service.environment!.JWT_SECRET).toMatch(/^\$\{JWT_SECRET(:\?[^}]*)?\}$/);
        expect(service.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
      }
    }
  });

  const withCompose = hasDockerCompose() ? it : it.skip;
  withCompose('is valid for docker-compose config, in each profile (when docker-compose is installed)', () => {
    const env = { ...process.env, JWT_SECRET: 'x'.repeat(32) };
    for (const profile of [[], ['--profile', 'postgres'], ['--profile', 'kurrentdb']]) {
      const out = execFileSync('docker-compose', ['-f', composePath, ...profile, 'config', '--services'], { env, encoding: 'utf8' });
      expect(out.trim().split('\n')).toContain('app');
    }
    // without JWT_SECRET the configuration is refused, not started with an empty key
    const missing = spawnSync('docker-compose', ['-f', composePath, 'config'], { env: { ...process.env, JWT_SECRET: '' }, encoding: 'utf8' });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('JWT_SECRET');
  }, 60_000);
});

describe('docker/Dockerfile', () => {
  const dockerfile = readFileSync(join(root, 'docker', 'Dockerfile'), 'utf8');
  /** Instructions, comments and continuations removed: [keyword, rest]. */
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return [keyword!.toUpperCase(), rest.join(' ')] as const;
    });
  const stages: { from: string; name?: string; steps: (readonly [string, string])[] }[] = [];
  for (const [keyword, rest] of instructions) {
    if (keyword === 'FROM') {
      const [image, as, name] = rest.split(/\s+/);
      stages.push({ from: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, steps: [] });
    } else stages[stages.length - 1]!.steps.push([keyword, rest]);
  }
  const runtime = stages[stages.length - 1]!;
  const index = (keyword: string, pattern: RegExp = /./) => runtime.steps.findIndex(([k, r]) => k === keyword && pattern.test(r));

  it('builds and runs on Node 22 LTS (node:22-bookworm-slim), in a separate build stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toBe('node:22-bookworm-slim');
    const build = stages.find((s) => s.name === 'build')!;
    expect(build.steps.some(([k, r]) => k === 'RUN' && /npm run build/.test(r))).toBe(true);
    // `npm ci` before the sources are copied must not run the package's prepare (build) script.
    expect(build.steps.some(([k, r]) => k === 'RUN' && /npm ci\b.*--ignore-scripts/.test(r))).toBe(true);
    // The supported runtime satisfies package.json's engines.
    const engines = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).engines.node as string;
    expect(engines).toMatch(/^>=\s*(20|21|22)(\.|$)/);
  });

  it('ships production dependencies only, and no bench code', () => {
    expect(dockerfile).not.toMatch(/^\s*COPY\s+bench\b/m);
    const copies = runtime.steps.filter(([k]) => k === 'COPY').map(([, r]) => r);
    expect(copies).toContain('--from=build /app/dist/src ./dist/src');
    expect(copies.filter((c) => /--from=build/.test(c) && !/\/app\/dist\/src\b/.test(c))).toEqual([]);
    const deps = stages.find((s) => copies.some((c) => c.startsWith(`--from=${s.name} /app/node_modules`)))!;
    expect(deps.steps.some(([k, r]) => k === 'RUN' && /npm ci\b.*--omit=dev/.test(r))).toBe(true);
    expect(runtime.steps.some(([k, r]) => k === 'RUN' && /npm (ci|install)/.test(r))).toBe(false);
    expect(runtime.steps.some(([k, r]) => k === 'ENV' && /NODE_ENV=production/.test(r))).toBe(true);
  });

  it('runs as the node user, with /data created and owned by it before it becomes a volume', () => {
    const prepared = index('RUN', /mkdir -p \/data\b.*chown node:node \/data\b/);
    const volume = index('VOLUME', /^\/data$|\["\/data"\]/);
    const users = runtime.steps.filter(([k]) => k === 'USER').map(([, r]) => r);
    expect(prepared).toBeGreaterThanOrEqual(0);
    expect(volume).toBeGreaterThan(prepared);
    expect(users[users.length - 1]).toBe('node');
    expect(index('USER')).toBeGreaterThan(prepared);
    expect(runtime.steps.some(([k, r]) => k === 'ENV' && /DATA_DIR=\/data\b/.test(r) && /SQLITE_PATH=\/data\//.test(r))).toBe(true);
  });

  it('health-checks the server, stops it with SIGTERM (graceful shutdown) and starts node directly', () => {
    expect(runtime.steps.find(([k]) => k === 'HEALTHCHECK')?.[1]).toMatch(/\/health\/(ready|live)/);
    expect(runtime.steps.find(([k]) => k === 'STOPSIGNAL')?.[1]).toBe('SIGTERM');
    // Exec form: node is PID 1 and receives the signal itself (a shell would not pass it on).
    expect(runtime.steps.filter(([k]) => k === 'CMD').pop()?.[1]).toBe('["node", "dist/src/main.js"]');
  });

  it('leaves local state and builds out of the build context', () => {
    const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'data']));
  });
});
