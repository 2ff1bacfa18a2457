import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { ConfigError, type AppConfig } from '../config/app-config.js';
import type { EventStore } from '../event-store/event-store.port.js';
import { loadSigningKeys, signingKeysFor, trustedPublicKey, type SigningKeys } from '../event-store/signing.js';
import type { JsonLogger } from '../shared/logging/json-logger.js';

/** Nest token of the server's SigningKeys (the log and the access log sign with them). */
export const SIGNING_KEYS = Symbol('SIGNING_KEYS');

/**
 * The signing key from the configuration (generated in DATA_DIR on first start, with a warning
 * in production, where it should be provisioned and backed up), and the keys trusted besides
 * it. With the in-memory store and no SIGNING_KEY_PATH, a key that lives as long as the process.
 */
export function configuredSigningKeys(config: AppConfig, log: JsonLogger): SigningKeys {
  const earlier = config.signing.trustedKeyPaths.map((path) =>
    keyFile('SIGNING_TRUSTED_KEYS', path, 'an Ed25519 public key (PEM)', () => trustedPublicKey(readFileSync(path, 'utf8'))),
  );
  if (config.signing.keyPath === null) {
    const { privateKey } = generateKeyPairSync('ed25519');
    return { ...signingKeysFor(privateKey, earlier), generatedAt: 'memory' };
  }
  const keyPath = config.signing.keyPath;
  const keys = keyFile('SIGNING_KEY_PATH', keyPath, 'an Ed25519 private key (PEM, PKCS#8)', () => loadSigningKeys(keyPath, earlier));
  if (keys.generatedAt) {
    const message = 'signing key generated: keep it (and back it up) with the log; a log signed with a lost key can only be verified by its public key';
    if (config.production) log.warn(message, { path: keys.generatedAt, kid: keys.signer.kid });
    else log.info(message, { path: keys.generatedAt, kid: keys.signer.kid });
  }
  return keys;
}

/**
 * A key file that cannot be read or is not a key of the kind asked for is the operator's setting
 * to mend: a configuration error naming the setting and the file, not OpenSSL's "DECODER
 * routines::unsupported" with a stack trace.
 */
function keyFile<T>(setting: string, path: string, expected: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    const { code, syscall } = error as NodeJS.ErrnoException;
    const why = !syscall ? `not ${expected}` : code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new ConfigError(`${setting}: ${path} cannot be used: ${why}`, setting);
  }
}

/**
 * A key generated at this start over a log that already holds commits signed with a key it does
 * not trust: the key file went missing (deleted, not restored with DATA_DIR, SIGNING_KEY_PATH
 * pointing elsewhere). Going on would sign new commits with a stranger key and report the log
 * BROKEN as if forged, with nothing saying the key was lost. Refused instead, and the key just
 * generated is removed, so that every start refuses until the key is back; a new key on purpose
 * trusts the old public key (SIGNING_TRUSTED_KEYS) and starts.
 */
export async function refuseNewKeyOverSignedLog(keys: SigningKeys, store: EventStore): Promise<void> {
  if (!keys.generatedAt || keys.generatedAt === 'memory') return;
  const [first] = await store.readSignatures({ maxCount: 1 });
  if (!first || keys.trusted.check('log', first) === null) return;
  rmSync(keys.generatedAt, { force: true });
  throw new ConfigError(
    `the signing key ${keys.generatedAt} was missing, but the log holds commits signed with key ${first.kid}: restore that key file (or point SIGNING_KEY_PATH at it). ` +
      'To sign with a new key on purpose, list the old public key in SIGNING_TRUSTED_KEYS (GET /.well-known/risk-ledger/keys of the old installation, or the export manifest)',
    'SIGNING_KEY_PATH',
  );
}
