import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, MIN_JWT_SECRET_BYTES, type AppConfig } from '../config/app-config.js';
import { DEV_SECRET_FILE } from '../config/own-files.js';

/**
 * The HS256 key: JWT_SECRET when set; in development without JWT_JWKS_URL only, a random key generated once and
 * kept in the data folder (mode 0600) so that tokens survive restarts and `npm run token` can
 * sign with the same key as the server.
 */
export function resolveJwtSecret(config: AppConfig): { secret?: string; generatedAt?: string; created?: boolean } {
  if (config.jwt.secret) return { secret: config.jwt.secret };
  // With an identity provider (JWT_JWKS_URL) there is no development key either: a key file on the
  // host would otherwise mint tokens (any role) that the server accepts next to the provider's.
  if (config.production || config.jwt.jwksUrl) return {};
  const file = join(config.dataDir, DEV_SECRET_FILE);
  const created = !existsSync(file);
  if (created) {
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
  }
  const secret = readFileSync(file, 'utf8').trim();
  // Cut short (a disk filled while it was written, a truncated copy): the server accepted no token
  // at all and the token command blamed NODE_ENV=production (docs probe).
  if (Buffer.byteLength(secret, 'utf8') < MIN_JWT_SECRET_BYTES) {
    throw new ConfigError(`the development key ${file} holds ${Buffer.byteLength(secret, 'utf8')} bytes, fewer than ${MIN_JWT_SECRET_BYTES}: it is damaged. Remove it and a new one is made at the next start (tokens signed with the old one stop working), or set JWT_SECRET`, 'JWT_SECRET');
  }
  return { secret, generatedAt: file, created };
}
