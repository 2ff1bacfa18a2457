/**
 * A graphql-ws connection is authenticated once, when it opens; these close it with 4401
 * (graphql-ws's "Unauthorized") when that token expires or is revoked, so a subscription never
 * outlives it.
 */
import { UnauthenticatedError } from '../../shared/domain/errors.js';
import { revokedTokenMessage, type TokenRevocations } from '../token-revocations.js';

/** The close code graphql-ws uses for "Unauthorized". */
export const TOKEN_EXPIRED_CLOSE_CODE = 4401;

/** setTimeout fires at once for delays above 2^31-1 ms (about 24.8 days): wait in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const TIMER = Symbol('tokenExpiryTimer');
const REVOCATION = Symbol('tokenRevocationWatch');
const REVOKED = Symbol('tokenRevoked');

/** How long a revoked connection's operations already running may take to answer before it closes anyway. */
const REVOKED_CLOSE_GRACE_MS = 10_000;

interface ClosableSocket {
  close(code?: number, reason?: string): void;
}

type Extra = { socket?: ClosableSocket; [TIMER]?: NodeJS.Timeout; [REVOCATION]?: () => void; [REVOKED]?: UnauthenticatedError };

/** Closes `extra.socket` (graphql-ws's ws adapter puts it there) with 4401 at `expiresAt` (ms since the epoch). */
export function closeSocketWhenTokenExpires(extra: unknown, expiresAt: number): void {
  const holder = extra as Extra;
  clearTokenExpiry(holder);
  const socket = holder.socket;
  if (!socket) return;
  // Always through a timer, even when the token is already past its exp (accepted within the
  // clock tolerance): the connection is acknowledged first, then closed with the reason.
  const arm = (): void => {
    holder[TIMER] = setTimeout(fire, Math.min(Math.max(expiresAt - Date.now(), 0), MAX_TIMER_MS));
    holder[TIMER].unref?.();
  };
  const fire = (): void => {
    if (expiresAt > Date.now()) return arm();
    holder[TIMER] = undefined;
    socket.close(TOKEN_EXPIRED_CLOSE_CODE, 'Token expired');
  };
  arm();
}

/**
 * Closes `extra.socket` with 4401 as soon as a revocation covers its token (`subject`, issued at
 * `issuedAt`), whichever instance recorded it; its subscriptions end with it. From that instant no
 * new operation of the connection runs (revokedOn); the queries and mutations already running
 * (`running()`) answer first, for up to 10 s: an ADMIN revoking their own tokens over graphql-ws
 * lost the mutation's answer, the socket closing as the revocation reached the feed (re-probe F6).
 */
export function closeSocketWhenTokenRevoked(extra: unknown, revocations: TokenRevocations, subject: string, issuedAt: number | undefined, running: () => number = () => 0): void {
  const holder = extra as Extra;
  const socket = holder.socket;
  if (!socket) return;
  holder[REVOCATION]?.();
  holder[REVOCATION] = revocations.onRevoked(subject, issuedAt, () => {
    holder[REVOCATION] = undefined;
    holder[REVOKED] = new UnauthenticatedError(revokedTokenMessage(revocations.of(subject)));
    const until = Date.now() + REVOKED_CLOSE_GRACE_MS;
    const close = (): void => {
      if (running() > 0 && Date.now() < until) return void setTimeout(close, 10).unref?.();
      socket.close(TOKEN_EXPIRED_CLOSE_CODE, 'Token revoked');
    };
    close();
  });
}

/** The refusal of a connection whose token was revoked while it was open (its new operations run nothing), if it was. */
export function revokedOn(extra: unknown): UnauthenticatedError | undefined {
  return (extra as Extra | undefined)?.[REVOKED];
}

/** Cancels the scheduled close and the watch for a revocation (the connection closed first). */
export function clearTokenExpiry(extra: unknown): void {
  const holder = extra as Extra | undefined;
  if (holder?.[REVOCATION]) {
    holder[REVOCATION]();
    holder[REVOCATION] = undefined;
  }
  if (!holder?.[TIMER]) return;
  clearTimeout(holder[TIMER]);
  holder[TIMER] = undefined;
}
