import type { CommandAdmission } from '../../shared/application/command-admission.js';
import { UnauthenticatedError } from '../../shared/domain/errors.js';
import { TOKEN_REVOCATIONS_STREAM, tokenRevocationDecider, type TokenRevocationState } from '../domain/token-revocation.decider.js';
import { revocationCovers, revokedTokenMessage, type TokenRevocations } from '../token-revocations.js';

/**
 * The token revocations judged at each client command's append, not only when its request came
 * in: the revocations stream is read in the command's attempt (the feed's list standing for the
 * first one) and appended at that version, so a write whose token is revoked before it commits is
 * refused (UNAUTHENTICATED), on this instance or on any other on the same database; none lands
 * after the revocation in the log.
 */
export function revocationAdmission(revocations: TokenRevocations): CommandAdmission<TokenRevocationState> {
  return {
    streamId: TOKEN_REVOCATIONS_STREAM,
    decider: tokenRevocationDecider,
    known: () => revocations.known(),
    admit: (ctx, state) => {
      const revocation = Object.hasOwn(state.bySubject, ctx.actor.id) ? state.bySubject[ctx.actor.id] : undefined;
      if (revocation && revocationCovers(Date.parse(revocation.revokedAt), ctx.credential?.issuedAt)) {
        throw new UnauthenticatedError(revokedTokenMessage(revocation), ctx.actor);
      }
    },
  };
}
