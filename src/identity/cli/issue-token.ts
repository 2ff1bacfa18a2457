/**
 * Bearer tokens for development and tests, signed with JWT_SECRET or with the development secret
 * kept in the data folder (the same one the server uses when JWT_SECRET is not set). The command
 * line is `risk-ledger token` (src/cli/main.ts):
 *   npm run -s token -- --sub alice --roles ASSET_MANAGER --department ops [--name "Alice"] [--expires 8h]
 */
import { SignJWT } from 'jose';
import { loadConfig } from '../../config/app-config.js';
import { ROLES } from '../../shared/domain/decider.js';
import { resolveJwtSecret } from '../dev-secret.js';
import { claimTextProblem, MAX_TOKEN_LIFETIME_SECONDS, userIdProblem } from '../token-verifier.js';

export async function signToken(
  secret: string,
  claims: { sub: string; name?: string; roles: string[]; department?: string },
  options: { expiresIn?: string; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({ name: claims.name ?? claims.sub, roles: claims.roles, ...(claims.department ? { department: claims.department } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    // Always set: the server refuses tokens without `exp`.
    .setExpirationTime(options.expiresIn ?? '8h');
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** A mistake in the token command's options: the CLI prints the message on one line and exits 2. */
export class TokenRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenRequestError';
  }
}

/** What `--expires` accepts: a whole number and a unit (jose would take more, and throw a TypeError on the rest). */
const EXPIRES = /^([1-9][0-9]{0,5})(s|m|h|d)$/;
export const EXPIRES_FORMS = 'a whole number followed by s, m, h or d (seconds, minutes, hours, days), e.g. 900s, 30m, 8h, 7d';
/** Longer than this is refused, as the server refuses such a token: one that never expires in practice is a standing credential. */
const MAX_EXPIRES_SECONDS = MAX_TOKEN_LIFETIME_SECONDS;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

export function parseExpires(value: string): string {
  const match = EXPIRES.exec(value.trim());
  // `0s` is a whole number and a unit, but no lifetime (new-user probe 8: told it was not a duration).
  if (!match && /^0+(s|m|h|d)$/.test(value.trim())) throw new TokenRequestError(`--expires '${value}' is no lifetime: it must be at least 1s`);
  if (!match) throw new TokenRequestError(`--expires '${value}' is not a duration: use ${EXPIRES_FORMS}`);
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS];
  const days = MAX_EXPIRES_SECONDS / 86_400;
  if (seconds > MAX_EXPIRES_SECONDS) throw new TokenRequestError(`--expires '${value}' is longer than ${days} days (${days}d)`);
  return `${match[1]}${match[2]}`;
}

export function parseRoles(value: string | undefined): string[] {
  const listed = `one or more of ${ROLES.join(', ')}, comma-separated`;
  if (value === undefined) throw new TokenRequestError(`--roles is required (a token without roles can do nothing): ${listed}`);
  const roles = [...new Set(value.split(',').map((r) => r.trim()).filter(Boolean))];
  if (!roles.length) throw new TokenRequestError(`--roles is empty: ${listed}`);
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length) throw new TokenRequestError(`unknown role${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: roles are ${ROLES.join(', ')}`);
  return roles;
}

export interface TokenRequest {
  sub?: string;
  roles?: string;
  department?: string;
  name?: string;
  expires?: string;
  /** Told the development key's file when this call generated it (no server has read that key yet). */
  onNewKey?: (file: string) => void;
}

/** Checks the options, then signs with the server's key. Throws TokenRequestError for a mistake, ConfigError for the environment. */
export async function issueToken(request: TokenRequest): Promise<string> {
  // Not trimmed: `--sub " carol"` printed a token for carol, whom the operator may not have meant (probe p10).
  const sub = request.sub;
  if (!sub?.trim()) throw new TokenRequestError('--sub is required: the user id the token speaks for (e.g. --sub alice)');
  const problem = userIdProblem(sub);
  if (problem) throw new TokenRequestError(`--sub ${problem}`);
  for (const [option, value] of [['--name', request.name], ['--department', request.department]] as const) {
    const textProblem = value === undefined ? null : claimTextProblem(value);
    if (textProblem) throw new TokenRequestError(`${option} ${textProblem}`);
  }
  const roles = parseRoles(request.roles);
  const expiresIn = parseExpires(request.expires ?? '8h');
  // An asset manager acts in their own department only: without one, every asset operation is refused (new-user probe 8).
  if (roles.includes('ASSET_MANAGER') && !request.department?.trim()) {
    throw new TokenRequestError('--department is required with the role ASSET_MANAGER: an asset manager acts on the assets of their own department (e.g. --department ops)');
  }
  const config = loadConfig();
  const { secret, created, generatedAt } = resolveJwtSecret(config);
  // A key made just now is one no running server has read: say where, so a mistyped DATA_DIR is seen.
  if (created && generatedAt) request.onNewKey?.(generatedAt);
  if (!secret) {
    throw new TokenRequestError(
      `no JWT_SECRET${config.jwt.jwksUrl ? ' and JWT_JWKS_URL is set' : ' and NODE_ENV=production'}: cannot sign a token (tokens then come from your identity provider)`,
    );
  }
  return signToken(secret, { sub, name: request.name, roles, department: request.department }, { expiresIn, issuer: config.jwt.issuer, audience: config.jwt.audience });
}
