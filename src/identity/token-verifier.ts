import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AppConfig } from '../config/app-config.js';
import { ROLES, type DomainActor, type Role } from '../shared/domain/decider.js';
import { UnauthenticatedError } from '../shared/domain/errors.js';
import { hasUnprintable, isWellFormedText, longerThan, userIdProblem } from '../shared/domain/guards.js';
import { CLOCK_TOLERANCE_SECONDS } from './clock-tolerance.js';
import { INPUT_LIMITS } from '../shared/domain/input-limits.js';
import { resolveJwtSecret } from './dev-secret.js';
import { rootLogger } from '../shared/logging/json-logger.js';
import { revokedTokenMessage, type TokenRevocations } from './token-revocations.js';

const log = rootLogger.child('identity');

export { CLOCK_TOLERANCE_SECONDS };

/**
 * The longest a token may live: an `exp` further ahead than this (with CLOCK_TOLERANCE_SECONDS)
 * is refused, since a token that never expires in practice (`exp: 1e308`) is a standing
 * credential. `risk-ledger token --expires` stops at the same bound (90d).
 */
export const MAX_TOKEN_LIFETIME_SECONDS = 90 * 24 * 3600;

/** HS256 tokens whose signature and claims were verified once, kept to answer their next requests. */
const VERIFIED_CACHE_SIZE = 1_000;

/** Read-only, and frozen at run time: the verified-token cache hands the same one to every request with that token. */
export interface VerifiedSession {
  readonly actor: DomainActor;
  /** When the token expires (its `exp`), in milliseconds since the epoch. */
  readonly expiresAt: number;
  /** When it was issued (its `iat`), in seconds since the epoch; undefined without one. */
  readonly issuedAt?: number;
}

/** Verifies bearer tokens (HS256 with JWT_SECRET, RS256/ES256 through JWT_JWKS_URL) and turns claims into an actor. */
export class TokenVerifier {
  private readonly hmacKey?: Uint8Array;
  private readonly jwks?: JWTVerifyGetKey;
  readonly devSecretFile?: string;
  /**
   * HS256 tokens already verified, keyed by their whole text (signature included): a client sends
   * the same token on every request, and jose's WebCrypto HMAC check was about a tenth of a
   * registerAsset's CPU. A hit is checked again against the clock (exp, nbf, iat, with the same
   * tolerance), so it accepts exactly what a full verification would; anything else goes through
   * jose again (and gets its error). Only HS256: a JWKS key can be withdrawn meanwhile.
   * The session made of its claims is kept with it, frozen: the same claims make the same actor,
   * and making it again (the subject's look-alike skeleton, the claims' text checks) was ~8 µs of
   * every request in the e2e profile.
   */
  private readonly verified = new Map<string, { payload: JWTPayload; session: VerifiedSession }>();

  /**
   * `revocations`: the tokens revoked per subject (revokeTokens), checked on every request, the
   * cached ones included. Without it (unit tests) nothing is revoked.
   */
  constructor(
    private readonly config: AppConfig,
    readonly revocations?: TokenRevocations,
  ) {
    const { secret, generatedAt } = resolveJwtSecret(config);
    if (secret) this.hmacKey = new TextEncoder().encode(secret);
    this.devSecretFile = generatedAt;
    if (config.jwt.jwksUrl) this.jwks = createRemoteJWKSet(new URL(config.jwt.jwksUrl));
  }

  /** The actor named by an `Authorization` header value, or UnauthenticatedError. */
  async verifyAuthorization(header: string | undefined | null): Promise<DomainActor> {
    return (await this.verifyAuthorizationSession(header)).actor;
  }

  async verify(token: string): Promise<DomainActor> {
    return (await this.verifySession(token)).actor;
  }

  /** Like verifyAuthorization, with the instant (ms since the epoch) the token stops being valid. */
  async verifyAuthorizationSession(header: string | undefined | null): Promise<VerifiedSession> {
    if (!header) throw new UnauthenticatedError('Missing bearer token (Authorization: Bearer <JWT>)');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthenticatedError('Authorization header must be "Bearer <JWT>"');
    return this.verifySession(match[1]!);
  }

  /**
   * Signature, issuer and audience; `exp` required; `exp`, `nbf` and `iat` checked against the
   * clock with CLOCK_TOLERANCE_SECONDS of slack (jose checks a future `iat` only together with
   * maxTokenAge, so that check is done here); `exp` at most MAX_TOKEN_LIFETIME_SECONDS ahead; the
   * claims an actor is made of (actorFromClaims). Only a token that passes all of it is cached.
   */
  async verifySession(token: string): Promise<VerifiedSession> {
    const session = this.fromCache(token) ?? (await this.verifyFully(token));
    // After the cache too: a token cached before its revocation is refused as any other.
    if (this.revocations?.isRevoked(session.actor.id, session.issuedAt)) {
      throw new UnauthenticatedError(revokedTokenMessage(this.revocations.of(session.actor.id)), session.actor);
    }
    return session;
  }

  private async verifyFully(token: string): Promise<VerifiedSession> {
    let payload: JWTPayload;
    let cacheable = false;
    try {
      const { alg } = decodeProtectedHeader(token);
      const options = {
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        requiredClaims: ['exp'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      };
      if (alg === 'HS256' && this.hmacKey) {
        ({ payload } = await jwtVerify(token, this.hmacKey, { ...options, algorithms: ['HS256'] }));
        cacheable = true;
      } else if (this.jwks && (alg === 'RS256' || alg === 'ES256')) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...options, algorithms: ['RS256', 'ES256'] }));
      } else {
        throw new UnauthenticatedError(`Tokens signed with ${alg ?? 'no algorithm'} are not accepted`);
      }
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw error;
      throw new UnauthenticatedError(`Invalid token: ${(error as Error).message ?? 'verification failed'}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof payload.iat === 'number' && payload.iat > now + CLOCK_TOLERANCE_SECONDS) {
      throw new UnauthenticatedError('Invalid token: "iat" claim is in the future');
    }
    // Checked once: the cache serves it only while its exp comes nearer.
    if (payload.exp! > now + MAX_TOKEN_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
      throw new UnauthenticatedError(`Invalid token: "exp" claim is more than ${MAX_TOKEN_LIFETIME_SECONDS / 86_400} days ahead, the longest a token may live`);
    }
    const session = sessionOf(payload);
    this.reportUnknownRoles(payload, session.actor);
    if (cacheable) this.remember(token, payload, session);
    return session;
  }

  /**
   * Roles a verified token claims that this product does not know are ignored (the actor holds
   * only known ones), and were nowhere to be seen: the access log records the actor's roles, `[]`
   * for a token of only unknown ones (authz probe p14, F7). Logged at warn once per subject and
   * set of roles (at most 1,000 remembered), names clipped.
   */
  private reportUnknownRoles(payload: JWTPayload, actor: DomainActor): void {
    const claimed = payload.roles as string[];
    if (claimed.length === actor.roles.length && claimed.every((r) => (actor.roles as string[]).includes(r))) return;
    const ignored = [...new Set(claimed.filter((r) => !(ROLES as readonly string[]).includes(r)))].slice(0, 10).map((r) => r.slice(0, 50));
    const key = `${actor.id}\u0000${ignored.join('\u0000')}`;
    if (ignored.length === 0 || this.reported.has(key)) return;
    if (this.reported.size >= VERIFIED_CACHE_SIZE) this.reported.clear();
    this.reported.add(key);
    log.warn('a token claims roles this product does not know: ignored', { sub: actor.id, ignoredRoles: ignored, roles: actor.roles });
  }
  private readonly reported = new Set<string>();

  /** A verified HS256 token seen before, still valid now; undefined sends it through jose again (and its error). */
  private fromCache(token: string): VerifiedSession | undefined {
    const hit = this.verified.get(token);
    if (!hit || !this.hmacKey) return undefined;
    const payload = hit.payload;
    const now = Math.floor(Date.now() / 1000);
    const timely =
      typeof payload.exp === 'number' && payload.exp > now - CLOCK_TOLERANCE_SECONDS &&
      (typeof payload.nbf !== 'number' || payload.nbf <= now + CLOCK_TOLERANCE_SECONDS) &&
      (typeof payload.iat !== 'number' || payload.iat <= now + CLOCK_TOLERANCE_SECONDS);
    if (!timely) {
      this.verified.delete(token);
      return undefined;
    }
    return hit.session;
  }

  private remember(token: string, payload: JWTPayload, session: VerifiedSession): void {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.clear();
    this.verified.set(token, { payload, session });
  }
}

/** The session a token's claims make; frozen, as the cache hands the same one to every request with that token. */
function sessionOf(payload: JWTPayload): VerifiedSession {
  const actor = actorFromClaims(payload);
  Object.freeze(actor.roles);
  return Object.freeze({ actor: Object.freeze(actor), expiresAt: payload.exp! * 1000, issuedAt: typeof payload.iat === 'number' ? payload.iat : undefined });
}

// The rule of a user's id is the domain's (guards.ts), shared with every input that names a person.
export { userIdProblem };

/**
 * The longest `name` or `department` claim: the edge's limit of an input name. A name of 5,000
 * characters went into every event's metadata, and a department longer than any an input may name
 * made an ASSET_MANAGER who could register nothing (hostile-input probe).
 */
export const CLAIM_TEXT_MAX_LENGTH = INPUT_LIMITS.name;

/** Why a text claim that goes into every event's metadata and into documents (`name`, `department`) cannot, or null: the rule of input names. */
export function claimTextProblem(text: string): string | null {
  if (hasUnprintable(text) || !isWellFormedText(text)) return 'must not contain control, line-separator, bidirectional-override or invisible characters, nor a lone surrogate';
  if (longerThan(text, CLAIM_TEXT_MAX_LENGTH)) return `must be at most ${CLAIM_TEXT_MAX_LENGTH} characters`;
  return null;
}

function claimText(payload: JWTPayload, claim: 'name' | 'department'): string | undefined {
  const value = payload[claim];
  if (typeof value !== 'string') return undefined;
  const problem = claimTextProblem(value);
  if (problem) throw new UnauthenticatedError(`Token claim "${claim}" ${problem}`);
  return value;
}

export function actorFromClaims(payload: JWTPayload): DomainActor {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.trim() === '') throw new UnauthenticatedError('Token has no subject (sub)');
  const problem = userIdProblem(sub);
  if (problem) throw new UnauthenticatedError(`Token subject (sub) ${problem}`);
  const roles = payload.roles;
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
    throw new UnauthenticatedError('Token claim "roles" must be an array of role names');
  }
  const known = roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  const claimedName = claimText(payload, 'name');
  const name = claimedName !== undefined && claimedName.trim() !== '' ? claimedName : sub;
  const claimedDepartment = claimText(payload, 'department');
  const department = claimedDepartment !== undefined && claimedDepartment !== '' ? claimedDepartment : undefined;
  return { id: sub, name, roles: [...new Set(known)], department };
}
