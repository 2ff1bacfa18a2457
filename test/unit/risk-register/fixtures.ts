/**
 * Reusable fixtures for the risk register: a realistic 3x3 criteria version (LOW / MEDIUM /
 * HIGH), a second version that only moves the acceptance level, information assets of a
 * crypto-asset exchange, a baseline catalogue and actors of every role.
 *
 * The criteria, written out (likelihood rows, impact columns):
 *
 *                  impact 1 Minor  2 Moderate  3 Severe
 *   likelihood 1 Rare      LOW       LOW        MEDIUM
 *   likelihood 2 Possible  LOW       MEDIUM     HIGH
 *   likelihood 3 Likely    MEDIUM    HIGH       HIGH
 *
 *   acceptance LOW (v1) / MEDIUM (v2); impactByAssetValue [1, 2, 3];
 *   baseline gap >= 0.25 -> likelihood 2, >= 0.5 -> 3; detailed score >= 3 -> 2, >= 6 -> 3;
 *   BASELINE required from asset value 2, DETAILED from 3; review LOW 365 d, MEDIUM 180 d, HIGH 90 d.
 */
import type { AssetState, SecurityProperty, ThreatState } from '../../../src/asset-inventory/domain/asset.state.js';
import type { BaselineCatalogueState } from '../../../src/baseline-catalogues/domain/catalogue.state.js';
import type { CriteriaVersionState } from '../../../src/risk-criteria/domain/criteria.state.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';
import { criteria3x3 } from '../../support/criteria-definitions.js';

export const T0 = '2025-04-01T09:00:00.000Z';
export const T1 = '2025-04-02T09:00:00.000Z';
export const T2 = '2025-04-03T09:00:00.000Z';
export const T3 = '2025-04-04T09:00:00.000Z';
export const T4 = '2025-04-05T09:00:00.000Z';

export const criteriaV1: CriteriaVersionState = {
  id: 'crit-1',
  number: 1,
  version: 1,
  status: 'IN_FORCE',
  proposedBy: 'u-com',
  proposedAt: '2025-03-01T09:00:00.000Z',
  approvedBy: 'u-ciso',
  approvedAt: '2025-03-02T09:00:00.000Z',
  ...criteria3x3(),
};

/** Version 2: the same scales, acceptance raised to MEDIUM (v1 superseded). */
export const criteriaV2: CriteriaVersionState = {
  ...criteriaV1,
  id: 'crit-2',
  number: 2,
  version: 3,
  proposedAt: '2025-06-01T09:00:00.000Z',
  approvedAt: '2025-06-02T09:00:00.000Z',
  acceptanceLevel: 'MEDIUM',
};

/** Version 4: the same labels and acceptance level (LOW), but Rare x Moderate (1, 2) is now MEDIUM. */
export const criteriaMatrixChanged: CriteriaVersionState = {
  ...criteriaV1,
  id: 'crit-4',
  number: 4,
  matrix: [
    ['LOW', 'MEDIUM', 'MEDIUM'],
    ['LOW', 'MEDIUM', 'HIGH'],
    ['MEDIUM', 'HIGH', 'HIGH'],
  ],
};

// ---------------------------------------------------------------------------------------------
// Assets
// ---------------------------------------------------------------------------------------------

export function threat(id: string, name: string, affects: SecurityProperty[], vulnerabilityIds: string[]): ThreatState {
  return {
    id,
    name,
    description: name,
    affects,
    identifiedAt: '2025-03-10T09:00:00.000Z',
    identifiedBy: 'u-mgr',
    vulnerabilities: vulnerabilityIds.map((v) => ({
      id: v,
      name: v,
      description: v,
      identifiedAt: '2025-03-10T09:00:00.000Z',
      identifiedBy: 'u-mgr',
    })),
  };
}

export function asset(over: Partial<AssetState> & Pick<AssetState, 'id'>): AssetState {
  const base: AssetState = {
    exists: true,
    id: over.id,
    version: 2,
    name: over.id,
    description: '',
    category: 'SYSTEM',
    department: 'Custody',
    managerId: 'u-mgr',
    confidentiality: 1,
    integrity: 1,
    availability: 1,
    value: 1,
    status: 'ACTIVE',
    threats: [],
    registeredAt: '2025-03-10T09:00:00.000Z',
    registeredBy: 'u-mgr',
    updatedAt: '2025-03-10T09:00:00.000Z',
  };
  const a = { ...base, ...over };
  return { ...a, value: Math.max(a.confidentiality, a.integrity, a.availability) };
}

/** Hot-wallet signing server: C3 I3 A2, value 3. Threats: key theft (C, I), outage (A). */
export const hotWallet = asset({
  id: 'asset-hot-wallet',
  name: 'Hot wallet signing server',
  confidentiality: 3,
  integrity: 3,
  availability: 2,
  threats: [
    threat('thr-key-theft', 'Theft of the signing key', ['CONFIDENTIALITY', 'INTEGRITY'], ['vul-shared-key']),
    threat('thr-outage', 'Outage of the signing service', ['AVAILABILITY'], ['vul-single-node']),
  ],
});

/** Withdrawal API: C1 I2 A3, value 3 (no threat of its own). */
export const withdrawalApi = asset({ id: 'asset-withdrawal-api', name: 'Withdrawal API', confidentiality: 1, integrity: 2, availability: 3 });

/** Operations wiki: C2 I1 A1, value 2, department Operations. Threat: leak (C). */
export const opsWiki = asset({
  id: 'asset-ops-wiki',
  name: 'Operations wiki',
  category: 'INFORMATION',
  department: 'Operations',
  confidentiality: 2,
  integrity: 1,
  availability: 1,
  threats: [threat('thr-leak', 'Leak of runbooks', ['CONFIDENTIALITY'], ['vul-public-link'])],
});

/** Office printer: C1 I1 A1, value 1. Threat: paper left in the tray (C). */
export const printer = asset({
  id: 'asset-printer',
  name: 'Office printer',
  category: 'HARDWARE',
  department: 'Operations',
  threats: [threat('thr-paper', 'Printouts left in the tray', ['CONFIDENTIALITY'], ['vul-no-pin'])],
});

/** Legacy FTP server: retired. */
export const retiredFtp = asset({
  id: 'asset-legacy-ftp',
  name: 'Legacy FTP server',
  confidentiality: 2,
  integrity: 2,
  availability: 1,
  status: 'RETIRED',
  retiredAt: '2025-03-20T09:00:00.000Z',
  retirementReason: 'Replaced by SFTP',
  threats: [threat('thr-sniff', 'Credential sniffing', ['CONFIDENTIALITY'], ['vul-plaintext'])],
});

export const allAssets: AssetState[] = [hotWallet, withdrawalApi, opsWiki, printer, retiredFtp];

// ---------------------------------------------------------------------------------------------
// Baseline catalogue
// ---------------------------------------------------------------------------------------------

export const custodyCatalogue: BaselineCatalogueState = {
  exists: true,
  id: 'custody-baseline@2025.1',
  streamVersion: 0,
  name: 'Custody baseline',
  version: '2025.1',
  builtIn: false,
  importedBy: 'u-com',
  importedAt: '2025-03-05T09:00:00.000Z',
  requirements: [
    { id: 'CB-01', title: 'Cold storage ratio', statement: 'Customer crypto assets are held in cold wallets except what withdrawals need.', reference: 'Ch.6' },
    { id: 'CB-02', title: 'Multi-signature', statement: 'Hot-wallet withdrawals need signatures from separate keys.', reference: 'Ch.6' },
    { id: 'CB-03', title: 'Key backup', statement: 'Signing keys are backed up and the backup is stored apart from the original.', reference: 'Ch.6' },
    { id: 'CB-04', title: 'Withdrawal monitoring', statement: 'Withdrawals above thresholds are monitored and held for review.', reference: 'Ch.6' },
    { id: 'CB-05', title: 'Daily reconciliation', statement: 'Book balances are reconciled with the chain every day.', reference: 'Ch.6' },
  ],
};

// ---------------------------------------------------------------------------------------------
// Actors
// ---------------------------------------------------------------------------------------------

export const owner: DomainActor = { id: 'u-owner', name: 'Ren Owner', roles: ['RISK_OWNER'] };
export const otherOwner: DomainActor = { id: 'u-owner2', name: 'Sora Owner', roles: ['RISK_OWNER'] };
export const custodyManager: DomainActor = { id: 'u-mgr', name: 'Mina Manager', roles: ['ASSET_MANAGER'], department: 'Custody' };
export const opsManager: DomainActor = { id: 'u-mgr-ops', name: 'Oki Manager', roles: ['ASSET_MANAGER'], department: 'Operations' };
export const committee: DomainActor = { id: 'u-com', name: 'Kenji Committee', roles: ['COMMITTEE_MEMBER'] };
export const ciso: DomainActor = { id: 'u-ciso', name: 'Chika CISO', roles: ['CISO'] };
export const secretary: DomainActor = { id: 'u-sec', name: 'Board Secretary', roles: ['BOARD_SECRETARY'] };
export const auditor: DomainActor = { id: 'u-aud', name: 'Aiko Auditor', roles: ['AUDITOR'] };
export const admin: DomainActor = { id: 'u-adm', name: 'Admin', roles: ['ADMIN'] };
/** The process manager's actor for commands it issues on Plan events. */
export const system: DomainActor = { id: 'system:plan-process', name: 'Plan process manager', roles: [] };
