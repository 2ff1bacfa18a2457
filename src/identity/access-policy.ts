import type { DomainActor, Role } from '../shared/domain/decider.js';
import { auditorRefusal, hasRole } from '../shared/domain/guards.js';

/**
 * Coarse gating before any operation runs (Art. 23(1): access limited to what each role needs).
 * Who may change what is decided in ONE place, the deciders (shared/domain/guards.ts and each
 * module's rules): they see the entity (an asset manager's own department, the risk's owner, the
 * proposer or the drafter). Here only what no decider sees: a token that carries no role of this
 * product, an auditor's token on a mutation, the operational mutations and the restricted queries.
 */
export interface OperationPolicy {
  roles: Role[];
}

const ANY: Role[] = ['ASSET_MANAGER', 'RISK_OWNER', 'COMMITTEE_MEMBER', 'CISO', 'BOARD_SECRETARY', 'AUDITOR', 'ADMIN'];

/** Mutations that run no domain command (so no decider checks them). */
export const OPERATIONAL_MUTATIONS: Record<string, OperationPolicy> = {
  rebuildProjections: { roles: ['ADMIN'] },
  revokeTokens: { roles: ['ADMIN'] },
};

export const QUERY_POLICIES: Record<string, OperationPolicy> = {
  accessLog: { roles: ['AUDITOR', 'CISO'] },
  verifyIntegrity: { roles: ['AUDITOR', 'CISO'] },
  verifyAccessLog: { roles: ['AUDITOR', 'CISO'] },
  tokenRevocations: { roles: ['AUDITOR', 'CISO', 'ADMIN'] },
};

/** null when allowed, else the reason for FORBIDDEN. */
export function checkOperation(kind: 'query' | 'mutation' | 'subscription', operation: string, actor: DomainActor): string | null {
  if (!hasRole(actor, ...ANY)) return 'The token carries no role of this product';
  if (kind === 'mutation') {
    // An auditor reads everything and writes nothing (also the operational mutations).
    const auditor = auditorRefusal(actor);
    if (auditor) return auditor;
    const operational = OPERATIONAL_MUTATIONS[operation];
    if (operational && !hasRole(actor, ...operational.roles)) return `${operation} needs ${rolesPhrase(operational.roles)}`;
    return null;
  }
  const policy = QUERY_POLICIES[operation];
  if (policy && !hasRole(actor, ...policy.roles)) return `${operation} needs ${rolesPhrase(policy.roles)}`;
  return null;
}

/** "the role ADMIN", "one of the roles AUDITOR, CISO". */
function rolesPhrase(roles: readonly string[]): string {
  return roles.length === 1 ? `the role ${roles[0]}` : `one of the roles ${roles.join(', ')}`;
}
