import { Controller, Get, Header, Inject } from '@nestjs/common';
import type { PublicKeyInfo, SigningKeys } from '../event-store/signing.js';
import { SIGNING_KEYS } from '../platform/signing-keys.js';

/**
 * GET /.well-known/risk-ledger/keys: the public keys this server signs and accepts chain heads
 * with (its own first, then the earlier ones it still trusts), so that anyone holding an export
 * can check its signatures. Public: a key proves nothing by being published here; an auditor
 * compares it with the key recorded when the system was commissioned.
 */
@Controller('.well-known/risk-ledger')
export class SigningKeysController {
  constructor(@Inject(SIGNING_KEYS) private readonly keys: SigningKeys) {}

  @Get('keys')
  @Header('cache-control', 'no-cache')
  keysList(): { keys: PublicKeyInfo[]; signingKid: string } {
    const keys = this.keys.trusted.list();
    const own = keys.find((k) => k.kid === this.keys.signer.kid);
    return { signingKid: this.keys.signer.kid, keys: own ? [own, ...keys.filter((k) => k !== own)] : keys };
  }
}
