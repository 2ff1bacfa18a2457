import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AppConfig } from '../config/app-config.js';
import { ROLES, type DomainActor, type Role } from '../shared/domain/decider.js';
import { UnauthenticatedError } from '../shared/domain/errors.js';
import { resolveJwtSecret } from './dev-secret.js';

/** Verifies bearer tokens (HS256 with JWT_SECRET, RS256/ES256 through JWT_JWKS_URL) and turns claims into an actor. */
export class TokenVerifier {
  private readonly hmacKey?: Uint8Array;
  private readonly jwks?: JWTVerifyGetKey;
  readonly devSecretFile?: string;

  constructor(private readonly config: AppConfig) {
    const { secret, generatedAt } = resolveJwtSecret(config);
    if (secret) this.hmacKey = new TextEncoder().encode(secret);
    this.devSecretFile = generatedAt;
    if (config.jwt.jwksUrl) this.jwks = createRemoteJWKSet(new URL(config.jwt.jwksUrl));
  }

  /** The actor named by an `Authorization` header value, or UnauthenticatedError. */
  async verifyAuthorization(header: string | undefined | null): Promise<DomainActor> {
    if (!header) throw new UnauthenticatedError('Missing bearer token (Authorization: Bearer <JWT>)');
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthenticatedError('Authorization header must be "Bearer <JWT>"');
    return this.verify(match[1]!);
  }

  async verify(token: string): Promise<DomainActor> {
    let payload: JWTPayload;
    try {
      const { alg } = decodeProtectedHeader(token);
      const options = {
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
      };
      if (alg === 'HS256' && this.hmacKey) {
        ({ payload } = await jwtVerify(token, this.hmacKey, { ...options, algorithms: ['HS256'] }));
      } else if (this.jwks && (alg === 'RS256' || alg === 'ES256')) {
        ({ payload } = await jwtVerify(token, this.jwks, { ...options, algorithms: ['RS256', 'ES256'] }));
      } else {
        throw new UnauthenticatedError(`Tokens signed with ${alg ?? 'no algorithm'} are not accepted`);
      }
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw error;
      throw new UnauthenticatedError(`Invalid token: ${(error as Error).message ?? 'verification failed'}`);
    }
    return actorFromClaims(payload);
  }
}

export function actorFromClaims(payload: JWTPayload): DomainActor {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.trim() === '') throw new UnauthenticatedError('Token has no subject (sub)');
  const roles = payload.roles;
  if (!Array.isArray(roles) || !roles.every((r) => typeof r === 'string')) {
    throw new UnauthenticatedError('Token claim "roles" must be an array of role names');
  }
  const known = roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  const name = typeof payload.name === 'string' && payload.name.trim() !== '' ? payload.name : sub;
  const department = typeof payload.department === 'string' && payload.department !== '' ? payload.department : undefined;
  return { id: sub, name, roles: [...new Set(known)], department };
}
