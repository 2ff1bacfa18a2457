/**
 * Rules about who may change the record that hold for every command, whatever the aggregate.
 */
import { hasRole, type DomainActor } from './decider.js';
import { ForbiddenError } from './errors.js';

/**
 * An AUDITOR changes nothing (contract: "a token that carries AUDITOR changes nothing, whatever
 * other roles it carries"). Auditors must be independent of what they audit (Art. 23(3)), so a
 * token mixing AUDITOR with a writing role is refused rather than half-trusted.
 */
export function auditorRefusal(actor: Pick<DomainActor, 'roles'>): string | null {
  return hasRole(actor as DomainActor, 'AUDITOR') ? 'A token that carries AUDITOR changes nothing, whatever other roles it carries' : null;
}

export function refuseAuditor(actor: Pick<DomainActor, 'roles'>): void {
  const refusal = auditorRefusal(actor);
  if (refusal) throw new ForbiddenError(refusal);
}
