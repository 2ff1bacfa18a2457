import type { DomainActor, Role } from '../shared/domain/decider.js';
import { hasRole } from '../shared/domain/guards.js';
import { auditorRefusal } from '../shared/domain/guards.js';

/**
 * The contract's role table (Art. 23(1): access limited to what each role needs), checked before
 * any command or query runs. Rules that depend on the entity (an asset manager's own department,
 * the risk's owner, the proposer or drafter) are checked again by the deciders, which see the
 * entity.
 */
export interface OperationPolicy {
  roles: Role[];
  /** Any authenticated actor may try; the decider decides (e.g. "the owner of that risk"). */
  entityDecides?: boolean;
}

const ANY: Role[] = ['ASSET_MANAGER', 'RISK_OWNER', 'COMMITTEE_MEMBER', 'CISO', 'BOARD_SECRETARY', 'AUDITOR', 'ADMIN'];
const COMMITTEE: Role[] = ['COMMITTEE_MEMBER', 'CISO'];

export const MUTATION_POLICIES: Record<string, OperationPolicy> = {
  registerAsset: { roles: ['ASSET_MANAGER', 'CISO'] },
  identifyThreat: { roles: ['ASSET_MANAGER', 'CISO'] },
  identifyVulnerability: { roles: ['ASSET_MANAGER', 'CISO'] },
  reassignAssetManager: { roles: ['ASSET_MANAGER', 'CISO'] },
  retireAsset: { roles: ['ASSET_MANAGER', 'CISO'] },
  proposeRiskCriteria: { roles: COMMITTEE },
  importBaselineCatalogue: { roles: COMMITTEE },
  approveRiskCriteria: { roles: ['CISO'] },
  identifyRisk: { roles: ['RISK_OWNER', 'ASSET_MANAGER', 'COMMITTEE_MEMBER', 'CISO'] },
  analyseRisk: { roles: COMMITTEE, entityDecides: true },
  recordReview: { roles: COMMITTEE, entityDecides: true },
  evaluateRisk: { roles: COMMITTEE },
  decideTreatment: { roles: COMMITTEE },
  decideControls: { roles: COMMITTEE },
  reassignRiskOwner: { roles: COMMITTEE },
  draftPlan: { roles: COMMITTEE },
  addRiskToPlan: { roles: COMMITTEE },
  submitPlan: { roles: COMMITTEE },
  withdrawPlan: { roles: COMMITTEE },
  closePlan: { roles: COMMITTEE },
  removeRiskFromPlan: { roles: COMMITTEE },
  recordBoardResolution: { roles: ['BOARD_SECRETARY'] },
  acceptResidualRisk: { roles: [], entityDecides: true },
  declineResidualRisk: { roles: [], entityDecides: true },
  rebuildProjections: { roles: ['ADMIN'] },
};

export const QUERY_POLICIES: Record<string, OperationPolicy> = {
  accessLog: { roles: ['AUDITOR', 'CISO'] },
  verifyIntegrity: { roles: ['AUDITOR', 'CISO'] },
};

/** null when allowed, else the reason for FORBIDDEN. */
export function checkOperation(kind: 'query' | 'mutation' | 'subscription', operation: string, actor: DomainActor): string | null {
  if (kind === 'mutation') {
    // An auditor reads everything and writes nothing (also the operational mutations).
    const auditor = auditorRefusal(actor);
    if (auditor) return auditor;
    const policy = MUTATION_POLICIES[operation];
    if (!policy) return `No role may run ${operation}`;
    if (policy.entityDecides) return null;
    return hasRole(actor, ...policy.roles) ? null : `${operation} needs one of the roles ${policy.roles.join(', ')}`;
  }
  const policy = QUERY_POLICIES[operation];
  if (!policy) return hasRole(actor, ...ANY) ? null : 'The token carries no role of this product';
  return hasRole(actor, ...policy.roles) ? null : `${operation} needs one of the roles ${policy.roles.join(', ')}`;
}
