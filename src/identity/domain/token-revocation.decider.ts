/**
 * Revocation of one person's bearer tokens (authz probe F6: a departed risk owner kept every right
 * until the token expired). One stream holds every revocation: a handful a year, loaded whole at
 * each start. Revoking a subject already revoked at the same or a later instant records nothing;
 * at a later instant it moves the instant (tokens issued in between are cut too).
 */
import type { Decider, DomainActor } from '../../shared/domain/decider.js';
import { FieldErrors } from '../../shared/domain/errors.js';
import { requiredText, requireRole, streamCategory, userIdProblem } from '../../shared/domain/guards.js';
import type { TokenRevocationEvent, TokensRevoked } from './token-revocation.events.js';

export const REVOCATION_LIMITS = { reason: 1_000 } as const;

export const tokenRevocationStreams = streamCategory('token-revocations');
/** The one stream of every revocation (history(id: "all") lists them). */
export const TOKEN_REVOCATIONS_ID = 'all';
export const TOKEN_REVOCATIONS_STREAM = tokenRevocationStreams.streamOf(TOKEN_REVOCATIONS_ID);

export type TokenRevocation = TokensRevoked['data'];

export interface TokenRevocationState {
  /** The latest revocation of each subject. */
  bySubject: Record<string, TokenRevocation>;
}

export interface RevokeTokens {
  type: 'RevokeTokens';
  actor: DomainActor;
  /** ISO-8601 instant the command is handled: the revocation's instant. */
  at: string;
  subject: string;
  reason: string;
}

export type TokenRevocationCommand = RevokeTokens;

export const initialTokenRevocationState: TokenRevocationState = { bySubject: {} };

export function decideTokenRevocation(c: TokenRevocationCommand, state: TokenRevocationState): TokenRevocationEvent[] {
  switch (c.type) {
    case 'RevokeTokens': {
      requireRole(c.actor, ['ADMIN'], "revoke a person's tokens");
      const errors = new FieldErrors();
      const subject = typeof c.subject === 'string' ? c.subject : '';
      const problem = userIdProblem(subject);
      if (problem) errors.add('subject', problem);
      const reason = requiredText(errors, 'reason', c.reason, REVOCATION_LIMITS.reason);
      errors.throwIfAny();
      const earlier = Object.hasOwn(state.bySubject, subject) ? state.bySubject[subject] : undefined;
      // Already revoked at this instant or later: every token it would cut is cut already.
      if (earlier && Date.parse(earlier.revokedAt) >= Date.parse(c.at)) return [];
      return [{ type: 'TokensRevoked', data: { subject, revokedAt: c.at, reason, revokedBy: c.actor.id } }];
    }
    default: {
      const unknown: never = c.type;
      throw new Error(`Unknown token revocation command ${String(unknown)}`);
    }
  }
}

export function evolveTokenRevocation(state: TokenRevocationState, event: TokenRevocationEvent): TokenRevocationState {
  switch (event.type) {
    case 'TokensRevoked':
      return { bySubject: { ...state.bySubject, [event.data.subject]: { ...event.data } } };
    default:
      return state;
  }
}

export const tokenRevocationDecider: Decider<TokenRevocationCommand, TokenRevocationEvent, TokenRevocationState> = {
  // Snapshots of this state are kept under this version: bump it whenever the state's shape (or what evolve folds into it) changes.
  stateVersion: 'token-revocations/1',
  decide: decideTokenRevocation,
  evolve: evolveTokenRevocation,
  initialState: initialTokenRevocationState,
};
