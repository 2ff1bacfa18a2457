import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { SignJWT } from 'jose';
import { loadConfig } from '../../../src/config/app-config.js';
import { CLAIM_TEXT_MAX_LENGTH, CLOCK_TOLERANCE_SECONDS, MAX_TOKEN_LIFETIME_SECONDS, TokenVerifier, actorFromClaims, userIdProblem } from '../../../src/identity/token-verifier.js';
import { TokenRevocations } from '../../../src/identity/token-revocations.js';
import { UnauthenticatedError } from '../../../src/shared/domain/errors.js';
import { JsonLogger } from '../../../src/shared/logging/json-logger.js';

const SECRET = 'token-verifier-spec-secret-0123456789abcdef';
const verifier = () => new TokenVerifier(loadConfig({ JWT_SECRET: SECRET, SQLITE_PATH: '/tmp/unused/events.sqlite' }));
const sign = (claims: Record<string, unknown>, sub = 'alice', key = SECRET) =>
  new SignJWT({ roles: ['ASSET_MANAGER'], ...claims }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).sign(new TextEncoder().encode(key));

/** The verified-token cache must accept exactly what a fresh verification accepts. */
describe('TokenVerifier: HS256 tokens verified once, checked against the clock on every request', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('answers a token it verified before with the same actor, and refuses it once expired', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    jest.useFakeTimers({ now, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const v = verifier();
    const token = await sign({ exp: now / 1000 + 60, iat: now / 1000 });
    const first = await v.verifySession(token);
    const second = await v.verifySession(token);
    expect(second).toEqual(first);
    // The claims are turned into an actor once; every request gets that one, which none can change.
    expect(second.actor).toBe(first.actor);
    expect(Object.isFrozen(first) && Object.isFrozen(first.actor) && Object.isFrozen(first.actor.roles)).toBe(true);
    expect(() => (first.actor.roles as string[]).push('CISO')).toThrow(TypeError);
    expect(first.actor).toEqual({ id: 'alice', name: 'alice', roles: ['ASSET_MANAGER'], department: undefined });
    // Read-only in its type too, so such a write is a compile error before it is a TypeError:
    // `npm test`'s typecheck fails on an unused @ts-expect-error, were any of these writable again.
    const writes = (session: typeof first) => {
      // @ts-expect-error the session's actor cannot be replaced
      session.actor = session.actor;
      // @ts-expect-error nor its id
      session.actor.id = 'mallory';
      // @ts-expect-error nor its roles pushed to
      session.actor.roles.push('CISO');
      // @ts-expect-error nor its expiry moved
      session.expiresAt = Infinity;
    };
    expect(() => writes(first)).toThrow(TypeError);

    jest.setSystemTime(now + (60 + CLOCK_TOLERANCE_SECONDS - 1) * 1000);
    await expect(v.verifySession(token)).resolves.toEqual(first);
    jest.setSystemTime(now + (60 + CLOCK_TOLERANCE_SECONDS + 1) * 1000);
    const cached = await v.verifySession(token).catch((e: unknown) => e);
    const fresh = await verifier().verifySession(token).catch((e: unknown) => e);
    expect(cached).toBeInstanceOf(UnauthenticatedError);
    expect((cached as Error).message).toBe((fresh as Error).message);
  });

  it('refuses a cached token once its subject is revoked, and not a token issued after the revocation nor another subject\'s', async () => {
    const now = Math.floor(Date.now() / 1000);
    const revocations = new TokenRevocations();
    const v = new TokenVerifier(loadConfig({ JWT_SECRET: SECRET, SQLITE_PATH: '/tmp/unused/events.sqlite' }), revocations);
    const old = await sign({ exp: now + 600, iat: now - 60 });
    const other = await sign({ exp: now + 600, iat: now - 60 }, 'bob');
    // Minted before the revocation by an issuer whose clock runs 25 s ahead (re-probe F2).
    const ahead = await sign({ exp: now + 600, iat: now - 40 + 25 });
    await v.verifySession(ahead);
    await v.verifySession(old);
    await v.verifySession(other);
    // Revoked 40 s ago: a token issued now is more than the clock tolerance (30 s) after it.
    revocations.apply({ subject: 'alice', revokedAt: new Date((now - 40) * 1000).toISOString(), reason: 'Left', revokedBy: 'root' });
    const refused = await v.verifySession(old).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnauthenticatedError);
    expect((refused as Error).message).toMatch(/^Token revoked: .*a new token from the identity provider is needed$/);
    await expect(v.verifySession(await sign({ exp: now + 600 }))).rejects.toThrow(/Token revoked/);
    await expect(v.verifySession(ahead)).rejects.toThrow(/Token revoked/);
    await expect(v.verifySession(await sign({ exp: now + 600, iat: now }))).resolves.toMatchObject({ actor: { id: 'alice' }, issuedAt: now });
    await expect(v.verifySession(other)).resolves.toMatchObject({ actor: { id: 'bob' } });
  });

  it('refuses a token that is not yet valid (nbf) until its time, cached or not', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    jest.useFakeTimers({ now, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const v = verifier();
    const token = await sign({ exp: now / 1000 + 3600, nbf: now / 1000 + 600 });
    await expect(v.verifySession(token)).rejects.toBeInstanceOf(UnauthenticatedError);
    jest.setSystemTime(now + 600 * 1000);
    await expect(v.verifySession(token)).resolves.toMatchObject({ actor: { id: 'alice' } });
    jest.setSystemTime(now);
    await expect(v.verifySession(token)).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it('still refuses a forged signature and a token of another key after a valid one was cached', async () => {
    const v = verifier();
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = await sign({ exp });
    await v.verifySession(token);
    const [header, payload, signature] = token.split('.');
    const flipped = `${header}.${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    await expect(v.verifySession(flipped)).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(v.verifySession(await sign({ exp }, 'alice', 'another-secret-0123456789abcdef-0123'))).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(v.verifySession(await sign({ exp, roles: 'ADMIN' }))).rejects.toBeInstanceOf(UnauthenticatedError);
  });
});

/** With an identity provider, no key on this host may mint tokens: neither a generated one nor an old file. */
describe('TokenVerifier with JWT_JWKS_URL: no development key', () => {
  it('neither generates nor accepts the development secret', async () => {
    const { mkdtempSync, writeFileSync, existsSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'verifier-jwks-'));
    try {
      const withJwks = { DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite'), JWT_JWKS_URL: 'http://127.0.0.1:9/jwks' };
      const v = new TokenVerifier(loadConfig(withJwks));
      expect(v.devSecretFile).toBeUndefined();
      expect(existsSync(join(dir, 'dev-jwt-secret'))).toBe(false);
      // A secret file left from development is ignored too.
      const devSecret = 'left-over-development-secret-0123456789abcdef';
      writeFileSync(join(dir, 'dev-jwt-secret'), devSecret + '\n');
      const token = await sign({ roles: ['ADMIN'], exp: Math.floor(Date.now() / 1000) + 60 }, 'mallory', devSecret);
      await expect(new TokenVerifier(loadConfig(withJwks)).verifySession(token)).rejects.toThrow(/Tokens signed with HS256 are not accepted/);
      // Without JWT_JWKS_URL (development), that file is the key.
      await expect(new TokenVerifier(loadConfig({ DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite') })).verifySession(token)).resolves.toMatchObject({ actor: { id: 'mallory' } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the development key', () => {
  it('refuses one cut short (an empty file): a configuration error naming it, not a server that accepts no token', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { ConfigError } = await import('../../../src/config/app-config.js');
    const dir = mkdtempSync(join(tmpdir(), 'verifier-dev-'));
    try {
      writeFileSync(join(dir, 'dev-jwt-secret'), '\n');
      const config = loadConfig({ DATA_DIR: dir, SQLITE_PATH: join(dir, 'events.sqlite') });
      expect(() => new TokenVerifier(config)).toThrow(ConfigError);
      expect(() => new TokenVerifier(config)).toThrow(/dev-jwt-secret holds 0 bytes, fewer than 32: it is damaged/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('actorFromClaims: who a token speaks for', () => {
  it("refuses a subject that would pass for the system's own actor, a control character or more than 128 characters", () => {
    const claims = (sub: string) => ({ sub, roles: ['AUDITOR'] });
    for (const sub of ['system:process-manager', 'system:anything', ' system:pm', 'alice ', 'line\u2028break', 'a\u0000b', 'tab\there', 'x'.repeat(129), '\u202Eevil']) {
      expect(() => actorFromClaims(claims(sub))).toThrow(UnauthenticatedError);
    }
    expect(actorFromClaims(claims('x'.repeat(128))).id).toBe('x'.repeat(128));
    expect(actorFromClaims(claims('山田 太郎')).id).toBe('山田 太郎');
    expect(actorFromClaims(claims('mgr-ops@example.jp')).id).toBe('mgr-ops@example.jp');
  });

  it("refuses the system's prefix in any case or width (compared after NFKC), and the CLI's check is the same", () => {
    for (const sub of ['SYSTEM:process-manager', 'System:pm', 'sYsTeM:x', 'ｓｙｓｔｅｍ:process-manager', 'ＳＹＳＴＥＭ：pm', 'ſystem:pm', 'system︓pm']) {
      expect(() => actorFromClaims({ sub, roles: ['CISO'] })).toThrow(/system:/);
      expect(userIdProblem(sub)).toMatch(/system:/);
    }
    for (const sub of ['systems-team', 'system', 'sys:tem', 'my-system:1']) expect(actorFromClaims({ sub, roles: ['CISO'] }).id).toBe(sub);
  });

  it('refuses a subject with an invisible or padding character, as input names do', () => {
    for (const sub of ['ali\u200Bce', 'ali\u2060ce', '\u3164', 'bob\uFFA0', 'a\uD800b', 'carol\u2800', 'c\u200Aarol', 'carol\u00A0x', '山田\u3000太郎', 'a\u202Fb', 'c  arol', 'carol \u0301', 'carol \u0301x']) {
      expect(() => actorFromClaims({ sub, roles: ['CISO'] })).toThrow(UnauthenticatedError);
      expect(userIdProblem(sub)).not.toBeNull();
    }
    // A mark on a letter (a decomposed accent, a Japanese voiced mark) and single spaces are fine.
    for (const sub of ['jose\u0301', '\u304B\u3099\u3068\u3046', 'a b c']) expect(userIdProblem(sub)).toBeNull();
  });

  it('refuses a name or a department with a control, bidirectional-override or invisible character, or ill-formed', () => {
    for (const bad of ['Alice\u202Egnp.exe', 'Al\u0000ice', 'two\nlines', 'Alice\u2066', 'Ali\u200Bce', 'Alice\uD800', '\u2800', 'Alice\u2800', 'x'.repeat(201)]) {
      expect(() => actorFromClaims({ sub: 'alice', name: bad, roles: ['CISO'] })).toThrow(/Token claim "name"/);
      expect(() => actorFromClaims({ sub: 'alice', department: bad, roles: ['ASSET_MANAGER'] })).toThrow(/Token claim "department"/);
    }
    expect(actorFromClaims({ sub: 'alice', name: '山田 太郎 👩\u200D💻', department: 'ops', roles: ['ASSET_MANAGER'] })).toEqual({ id: 'alice', name: '山田 太郎 👩\u200D💻', roles: ['ASSET_MANAGER'], department: 'ops' });
    // At most an input name's 200 characters (INPUT_LIMITS.name), counted as characters, not UTF-16 units.
    expect(CLAIM_TEXT_MAX_LENGTH).toBe(200);
    expect(actorFromClaims({ sub: 'alice', name: '👩'.repeat(200), department: 'd'.repeat(200), roles: ['ASSET_MANAGER'] }).name).toBe('👩'.repeat(200));
    expect(() => actorFromClaims({ sub: 'alice', department: 'd'.repeat(201), roles: ['ASSET_MANAGER'] })).toThrow(/Token claim "department" must be at most 200 characters/);
  });
});

describe('TokenVerifier: a token lives at most MAX_TOKEN_LIFETIME_SECONDS (90 days, as `token --expires`)', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('refuses an exp further ahead (1e308 included), cached or not, and takes one at the bound', async () => {
    expect(MAX_TOKEN_LIFETIME_SECONDS).toBe(90 * 24 * 3600);
    const now = Math.floor(Date.now() / 1000);
    const v = verifier();
    for (const exp of [1e308, now + MAX_TOKEN_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS + 60, 2 ** 53]) {
      const token = await sign({ exp, iat: now });
      await expect(v.verifySession(token)).rejects.toThrow(/"exp" claim is more than 90 days ahead/);
      // Refused again (it was not cached).
      await expect(v.verifySession(token)).rejects.toThrow(UnauthenticatedError);
    }
    const longest = await sign({ exp: now + MAX_TOKEN_LIFETIME_SECONDS, iat: now });
    await expect(v.verifySession(longest)).resolves.toMatchObject({ actor: { id: 'alice' }, expiresAt: (now + MAX_TOKEN_LIFETIME_SECONDS) * 1000 });
    await expect(v.verifySession(longest)).resolves.toMatchObject({ actor: { id: 'alice' } });
  });

  it('does not cache a token whose claims are refused after its signature was checked', async () => {
    const v = verifier();
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = await sign({ exp, name: 'Alice\u202E' });
    await expect(v.verifySession(token)).rejects.toThrow(/Token claim "name"/);
    await expect(v.verifySession(token)).rejects.toThrow(/Token claim "name"/);
  });
});

describe('TokenVerifier: roles this product does not know', () => {
  it('are ignored, and said once per subject and set of roles in a warn line (authz probe p14, F7: the access log showed [])', async () => {
    const warn = jest.spyOn(JsonLogger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const v = verifier();
      const exp = Math.floor(Date.now() / 1000) + 600;
      const token = await sign({ exp, roles: ['SUPERUSER', 'AUDITOR', 'x'.repeat(80)] }, 'mallory');
      const session = await v.verifySession(token);
      expect(session.actor.roles).toEqual(['AUDITOR']);
      await v.verifySession(token);
      await v.verifySession(await sign({ exp: exp + 1, roles: ['SUPERUSER', 'AUDITOR', 'x'.repeat(80)] }, 'mallory'));
      const lines = warn.mock.calls.filter(([m]) => String(m).includes('roles this product does not know'));
      expect(lines).toEqual([['a token claims roles this product does not know: ignored', { sub: 'mallory', ignoredRoles: ['SUPERUSER', 'x'.repeat(50)], roles: ['AUDITOR'] }]]);
      // Known roles only: nothing said.
      await v.verifySession(await sign({ exp, roles: ['AUDITOR'] }, 'alice'));
      expect(warn.mock.calls.filter(([m]) => String(m).includes('roles this product does not know'))).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });
});
