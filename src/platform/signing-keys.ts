import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AppConfig } from '../config/app-config.js';
import { loadSigningKeys, signingKeysFor, type SigningKeys } from '../event-store/signing.js';
import type { JsonLogger } from '../shared/logging/json-logger.js';

/** Nest token of the server's SigningKeys (the log and the access log sign with them). */
export const SIGNING_KEYS = Symbol('SIGNING_KEYS');

/**
 * The signing key from the configuration (generated in DATA_DIR on first start, with a warning
 * in production, where it should be provisioned and backed up), and the keys trusted besides
 * it. With the in-memory store and no SIGNING_KEY_PATH, a key that lives as long as the process.
 */
export function configuredSigningKeys(config: AppConfig, log: JsonLogger): SigningKeys {
  const earlier = config.signing.trustedKeyPaths.map((path) => readFileSync(path, 'utf8'));
  if (config.signing.keyPath === null) {
    const { privateKey } = generateKeyPairSync('ed25519');
    return { ...signingKeysFor(privateKey, earlier.map((pem) => createPublicKey(pem))), generatedAt: 'memory' };
  }
  const keys = loadSigningKeys(config.signing.keyPath, earlier);
  if (keys.generatedAt) {
    const message = 'signing key generated: keep it (and back it up) with the log; a log signed with a lost key can only be verified by its public key';
    if (config.production) log.warn(message, { path: keys.generatedAt, kid: keys.signer.kid });
    else log.info(message, { path: keys.generatedAt, kid: keys.signer.kid });
  }
  return keys;
}
