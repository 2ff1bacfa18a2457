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

  it('health-checks every service (the apps through GET /health)', () => {
    for (const [name, service] of Object.entries(services)) {
      expect({ name, healthcheck: Boolean(service.healthcheck?.test) }).toEqual({ name, healthcheck: true });
      if (name.startsWith('app')) expect(JSON.stringify(service.healthcheck!.test)).toContain('/health');
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
  const stages = dockerfile.split(/^FROM /m).slice(1);

  it('builds in a separate stage, installs production dependencies only, on node:20-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage).toMatch(/^node:20-slim\b/);
    expect(stages[0]).toMatch(/npm run build/);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    const runtime = stages[stages.length - 1]!;
    expect(runtime).not.toMatch(/npm ci(?! --omit=dev)/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist/);
  });

  it('runs as a non-root user that owns the data volume, with a health check', () => {
    const runtime = stages[stages.length - 1]!;
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime).toMatch(/chown node:node \/data/);
    expect(runtime).toMatch(/HEALTHCHECK[\s\S]*\/health/);
    expect(runtime).toMatch(/CMD \["node", "dist\/src\/main\.js"\]/);
  });
});
