/**
 * Events of token revocation: the storage contract. Never edited; a new shape gets a new schema
 * version and an upcaster.
 */

/**
 * Every token of `subject` issued at or before `revokedAt` (its `iat`; one without `iat` too) is
 * refused from then on. Access comes back with a token the identity provider issues later.
 */
export interface TokensRevoked {
  type: 'TokensRevoked';
  data: {
    /** The tokens' `sub`, exactly as the identity provider writes it. */
    subject: string;
    /** ISO-8601 instant of the revocation (the command's time). */
    revokedAt: string;
    reason: string;
    /** User id of the ADMIN who revoked them (also the event's metadata actor). */
    revokedBy: string;
  };
}

export type TokenRevocationEvent = TokensRevoked;
export type TokenRevocationEventType = TokenRevocationEvent['type'];

export const tokenRevocationEventSchemaVersions: Record<TokenRevocationEventType, number> = {
  TokensRevoked: 1,
};

/** Turns stored data of any known schema version into the current shape (identity today: the seam for later shapes). */
export function upcastTokenRevocationEvent(type: string, schemaVersion: number, data: unknown): TokenRevocationEvent {
  if (!(type in tokenRevocationEventSchemaVersions)) throw new Error(`Unknown token revocation event type ${type}`);
  const current = tokenRevocationEventSchemaVersions[type as TokenRevocationEventType];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new Error(`Unsupported schema version ${schemaVersion} of ${type} (current ${current})`);
  }
  return { type, data } as TokenRevocationEvent;
}
