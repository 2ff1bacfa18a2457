/**
 * Signed chain heads. Unkeyed hashes show that the log is consistent, not who wrote it: anyone
 * with the file can append an event with valid hashes, or rewrite the log and recompute every
 * hash. Each commit therefore signs its last link of the global chain (position + chain hash)
 * with an Ed25519 key the server holds; a verifier checks the signatures with public keys it
 * trusts from its own configuration, never from the database it verifies.
 *
 * What a signature cannot show: that the newest commits were not removed by someone holding the
 * key (a shorter signed log is still signed). That needs an anchor kept elsewhere (see README).
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export const SIGNATURE_ALGORITHM = 'Ed25519';

/**
 * What is signed: the scope (the event log or the access log), the position and the chain link
 * there, and for a commit of the log its first position: a signed commit names exactly the events
 * it wrote, so an event slipped in between two commits (by another writer, without the key) lies
 * in no signed commit even though the next commit's chain runs through it.
 */
export function headMessage(scope: 'log' | 'access-log', position: string, chainHash: string, firstPosition?: string): Buffer {
  return Buffer.from(
    firstPosition === undefined ? `risk-ledger/${scope}-head/v1|${position}|${chainHash}` : `risk-ledger/${scope}-commit/v1|${firstPosition}|${position}|${chainHash}`,
    'utf8',
  );
}

/** A signature of one chain head. */
export interface HeadSignature {
  /** The first position of the signed commit (log commits). */
  firstPosition?: string;
  position: string;
  chainHash: string;
  /** Key id: see keyId(). */
  kid: string;
  /** Base64 Ed25519 signature of headMessage(scope, position, chainHash). */
  signature: string;
}

export interface ChainSigner {
  readonly kid: string;
  sign(scope: 'log' | 'access-log', position: string, chainHash: string, firstPosition?: string): HeadSignature;
  /**
   * A 32-byte secret for `purpose` that only the holder of this key can compute (the SHA-256 of
   * the key's Ed25519 signature of the purpose: Ed25519 signs deterministically). Keys local files
   * derived from the log (replay snapshots) so that a file edited without the key is told apart.
   */
  derivedSecret?(purpose: string): Buffer;
}

export interface PublicKeyInfo {
  kid: string;
  alg: typeof SIGNATURE_ALGORITHM;
  publicKeyPem: string;
}

/** A key's id: the first 16 hex digits of the SHA-256 of its public key (DER, SPKI). */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function publicKeyInfo(publicKey: KeyObject): PublicKeyInfo {
  return { kid: keyId(publicKey), alg: SIGNATURE_ALGORITHM, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/**
 * The signatures this process made lately, by key id and message (bounded, oldest out first).
 * The integrity monitor verifies every commit's signature as read back from the log, a few
 * hundred milliseconds after the commit signed it: an Ed25519 verification each (about 2% of
 * the server's CPU under the e2e bench). A signature read back that equals, byte for byte, the
 * one this process made for the same key and message is valid by construction (Ed25519 signs
 * deterministically and verification accepts what the key signed), so it is not verified again.
 * Whatever differs (a row edited or forged in the file, a foreign key) is verified as before.
 * Only our own process writes here: the file cannot put an entry in it.
 */
export class OwnSignatures {
  private readonly made = new Map<string, string>();

  constructor(private readonly limit = 8_192) {}

  remember(kid: string, message: string, signature: string): void {
    if (this.made.size >= this.limit) this.made.delete(this.made.keys().next().value!);
    this.made.set(`${kid}|${message}`, signature);
  }

  /** True when this process signed `message` with `kid` and got exactly `signature`. */
  signed(kid: string, message: string, signature: string): boolean {
    return this.made.get(`${kid}|${message}`) === signature;
  }
}

/** The private key of each signer made here, for a worker thread that signs in the server's stead. */
const signingKeyOfSigner = new WeakMap<ChainSigner, KeyObject>();

/**
 * The private key behind `signer`, when signerFor made it: handed (as a KeyObject, which crosses
 * threads by structured clone) to the access log's writer thread, which signs its batches' heads
 * with it. Not a property of the signer, so that nothing serialises it by accident.
 */
export function signingKeyOf(signer: ChainSigner): KeyObject | null {
  return signingKeyOfSigner.get(signer) ?? null;
}

export function signerFor(privateKey: KeyObject, own?: OwnSignatures): ChainSigner {
  const kid = keyId(createPublicKey(privateKey));
  const signer: ChainSigner = {
    kid,
    sign: (scope, position, chainHash, firstPosition) => {
      const message = headMessage(scope, position, chainHash, firstPosition);
      const signature = sign(null, message, privateKey).toString('base64');
      own?.remember(kid, message.toString('latin1'), signature);
      return { ...(firstPosition === undefined ? {} : { firstPosition }), position, chainHash, kid, signature };
    },
    derivedSecret: (purpose) => createHash('sha256').update(sign(null, Buffer.from(`risk-ledger derived secret: ${purpose}`, 'utf8'), privateKey)).digest(),
  };
  signingKeyOfSigner.set(signer, privateKey);
  return signer;
}

/** The server's signer and the keys it trusts (its own first, then `earlier`), sharing what the signer made. */
export function signingKeysFor(privateKey: KeyObject, earlier: readonly KeyObject[] = []): Pick<SigningKeys, 'signer' | 'trusted'> {
  const own = new OwnSignatures();
  return { signer: signerFor(privateKey, own), trusted: new TrustedKeys([createPublicKey(privateKey), ...earlier], own) };
}

/** The public keys a verifier trusts, by key id. */
export class TrustedKeys {
  private readonly byKid = new Map<string, KeyObject>();

  constructor(
    keys: readonly KeyObject[],
    /** Signatures this process made (see OwnSignatures); only consulted for a key trusted here. */
    private readonly own?: OwnSignatures,
  ) {
    for (const key of keys) this.byKid.set(keyId(requireEd25519(key, `Trusted key ${keyId(key)}`)), key);
  }

  static fromPems(pems: readonly string[]): TrustedKeys {
    return new TrustedKeys(pems.map(trustedPublicKey));
  }

  get size(): number {
    return this.byKid.size;
  }

  list(): PublicKeyInfo[] {
    return [...this.byKid.values()].map(publicKeyInfo);
  }

  /** null when the signature holds; else why not. */
  check(scope: 'log' | 'access-log', s: HeadSignature): string | null {
    const key = this.byKid.get(s.kid);
    if (!key) return `signed with key ${s.kid}, which this verifier does not trust`;
    const message = headMessage(scope, s.position, s.chainHash, s.firstPosition);
    if (this.own?.signed(s.kid, message.toString('latin1'), s.signature)) return null;
    let ok = false;
    try {
      ok = verify(null, message, key, Buffer.from(s.signature, 'base64'));
    } catch {
      ok = false;
    }
    return ok ? null : `the signature of the head at ${s.position} does not verify with key ${s.kid}`;
  }
}

/** The server's signing key and the keys it trusts (its own and earlier ones, for rotation). */
export interface SigningKeys {
  signer: ChainSigner;
  trusted: TrustedKeys;
  /** Set when the key was generated just now. */
  generatedAt?: string;
}

/**
 * Loads the Ed25519 private key at `path` (PEM, PKCS#8), or generates one there (mode 0600) when
 * absent. `earlier` are earlier public keys still trusted (rotation; see trustedPublicKey).
 */
export function loadSigningKeys(path: string, earlier: readonly KeyObject[] = []): SigningKeys {
  let generatedAt: string | undefined;
  if (!existsSync(path)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    generatedAt = path;
  }
  const privateKey = requireEd25519(createPrivateKey(readFileSync(path, 'utf8')), `${path}`);
  return { ...signingKeysFor(privateKey, earlier), generatedAt };
}

/** A public key (PEM) to trust: an Ed25519 key, or an error saying it is not one. */
export function trustedPublicKey(pem: string): KeyObject {
  return requireEd25519(createPublicKey(pem), 'The key');
}

/** The one check that a key (public or private) is of the only kind the log is signed with. */
function requireEd25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${what} is not an Ed25519 key`);
  return key;
}
