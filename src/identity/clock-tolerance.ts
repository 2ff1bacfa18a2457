/**
 * Clock skew allowed between the token issuer and this server when checking exp, nbf and iat
 * (token-verifier.ts); the revocations count a token as issued up to this much later than its
 * `iat` says (token-revocations.ts), since its `iat` may be that far ahead of this server's clock.
 */
export const CLOCK_TOLERANCE_SECONDS = 30;
