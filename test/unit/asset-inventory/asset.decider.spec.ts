import type { DomainActor } from '../../../src/shared/domain/decider.js';
import { BadInputError, ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import {
  ASSET_LIMITS,
  assetDecider,
  assetStreamId,
  type IdentifyThreat,
  type IdentifyVulnerability,
  type RegisterAsset,
} from '../../../src/asset-inventory/domain/asset.decider.js';
import {
  assetEventSchemaVersions,
  upcastAssetEvent,
  type AssetEvent,
  type AssetRegistered,
  type ThreatIdentified,
  type VulnerabilityIdentified,
} from '../../../src/asset-inventory/domain/asset.events.js';
import { given } from '../support/given-when-then.js';

const T0 = '2024-04-01T09:00:00.000Z';
const T1 = '2024-04-02T09:00:00.000Z';
const T2 = '2024-04-03T09:00:00.000Z';

const manager: DomainActor = { id: 'u-mgr', name: 'Mina Manager', roles: ['ASSET_MANAGER'], department: 'Custody' };
const otherManager: DomainActor = { id: 'u-mgr2', name: 'Other Manager', roles: ['ASSET_MANAGER'], department: 'Sales' };
const managerWithoutDept: DomainActor = { id: 'u-mgr3', name: 'No Dept', roles: ['ASSET_MANAGER'] };
const ciso: DomainActor = { id: 'u-ciso', name: 'Chika CISO', roles: ['CISO'] };
const committee: DomainActor = { id: 'u-com', name: 'Kenji Committee', roles: ['COMMITTEE_MEMBER'] };
const auditor: DomainActor = { id: 'u-aud', name: 'Aiko Auditor', roles: ['AUDITOR'] };
const riskOwner: DomainActor = { id: 'u-own', name: 'Ren Owner', roles: ['RISK_OWNER'] };
const admin: DomainActor = { id: 'u-adm', name: 'Admin', roles: ['ADMIN'] };

const register = (over: Partial<RegisterAsset> = {}): RegisterAsset => ({
  type: 'RegisterAsset',
  assetId: 'a1',
  name: 'Hot wallet signing server',
  description: 'Signs withdrawals from the hot wallet',
  category: 'SYSTEM',
  department: 'Custody',
  managerId: 'u-mgr',
  confidentiality: 3,
  integrity: 3,
  availability: 2,
  actor: manager,
  at: T0,
  ...over,
});

const registered: AssetRegistered = {
  type: 'AssetRegistered',
  data: {
    assetId: 'a1',
    name: 'Hot wallet signing server',
    description: 'Signs withdrawals from the hot wallet',
    category: 'SYSTEM',
    department: 'Custody',
    managerId: 'u-mgr',
    confidentiality: 3,
    integrity: 3,
    availability: 2,
    value: 3,
    registeredBy: 'u-mgr',
    registeredAt: T0,
  },
};

const identifyThreat = (over: Partial<IdentifyThreat> = {}): IdentifyThreat => ({
  type: 'IdentifyThreat',
  assetId: 'a1',
  threatId: 't1',
  name: 'Key theft by intrusion',
  description: 'An attacker gets into the server and copies the hot-wallet key',
  affects: ['CONFIDENTIALITY', 'INTEGRITY'],
  actor: manager,
  at: T1,
  ...over,
});

const threatIdentified: ThreatIdentified = {
  type: 'ThreatIdentified',
  data: {
    assetId: 'a1',
    threatId: 't1',
    name: 'Key theft by intrusion',
    description: 'An attacker gets into the server and copies the hot-wallet key',
    affects: ['CONFIDENTIALITY', 'INTEGRITY'],
    identifiedBy: 'u-mgr',
    identifiedAt: T1,
  },
};

const identifyVulnerability = (over: Partial<IdentifyVulnerability> = {}): IdentifyVulnerability => ({
  type: 'IdentifyVulnerability',
  assetId: 'a1',
  threatId: 't1',
  vulnerabilityId: 'v1',
  name: 'Unpatched SSH daemon',
  description: 'CVE backlog on the bastion',
  actor: manager,
  at: T2,
  ...over,
});

const vulnerabilityIdentified: VulnerabilityIdentified = {
  type: 'VulnerabilityIdentified',
  data: {
    assetId: 'a1',
    threatId: 't1',
    vulnerabilityId: 'v1',
    name: 'Unpatched SSH daemon',
    description: 'CVE backlog on the bastion',
    identifiedBy: 'u-mgr',
    identifiedAt: T2,
  },
};

const retired: AssetEvent = { type: 'AssetRetired', data: { assetId: 'a1', reason: 'Replaced by HSM', retiredBy: 'u-mgr', retiredAt: T2 } };

describe('InformationAsset: RegisterAsset (Art.14(2))', () => {
  it('registers an asset with value = max of the ratings', () => {
    const { state } = given(assetDecider, []).when(register()).then([registered]);
    expect(state).toMatchObject({ exists: true, id: 'a1', version: 0, value: 3, status: 'ACTIVE', threats: [], updatedAt: T0 });
  });

  it('computes value from the highest rating whichever property it is', () => {
    given(assetDecider, [])
      .when(register({ confidentiality: 1, integrity: 1, availability: 2 }))
      .thenMatches([{ type: 'AssetRegistered', data: { value: 2 } }]);
  });

  it('trims the name, department and manager', () => {
    given(assetDecider, [])
      .when(register({ name: '  Hot wallet signing server  ', department: ' Custody ', managerId: ' u-mgr ' }))
      .then([registered]);
  });

  it.each([
    ['confidentiality', 0],
    ['confidentiality', 4],
    ['integrity', 2.5],
    ['availability', -1],
  ] as const)('rejects %s = %p: ratings are integers 1..3', (field, value) => {
    const err = given(assetDecider, [])
      .when(register({ [field]: value } as Partial<RegisterAsset>))
      .thenThrows(BadInputError);
    expect(err.fields).toEqual({ [field]: 'must be an integer from 1 to 3' });
  });

  it('rejects an empty name', () => {
    given(assetDecider, []).when(register({ name: '   ' })).thenRejectsFields('name');
  });

  it('rejects a name made only of invisible code points (its key would be empty)', () => {
    given(assetDecider, []).when(register({ name: '\u200D\uFE0F' })).thenRejectsFields('name');
  });

  it('rejects a name over 200 characters', () => {
    given(assetDecider, []).when(register({ name: 'x'.repeat(201) })).thenRejectsFields('name');
  });

  it('accepts a name of exactly 200 characters', () => {
    given(assetDecider, []).when(register({ name: 'x'.repeat(200) })).thenMatches([{ type: 'AssetRegistered' }]);
  });

  it('rejects a description over 10,000 characters (the contract\'s text limit)', () => {
    given(assetDecider, []).when(register({ description: 'd'.repeat(10_001) })).thenRejectsFields('description');
  });

  it('accepts an empty description', () => {
    given(assetDecider, []).when(register({ description: '' })).thenMatches([{ type: 'AssetRegistered', data: { description: '' } }]);
  });

  it('rejects an unknown category', () => {
    given(assetDecider, [])
      .when(register({ category: 'SPACESHIP' as never }))
      .thenRejectsFields('category');
  });

  it('rejects an empty department (as a CISO, so that the department check does not come first)', () => {
    given(assetDecider, []).when(register({ department: ' ', actor: ciso })).thenRejectsFields('department');
  });

  it('rejects an empty managerId', () => {
    given(assetDecider, []).when(register({ managerId: '' })).thenRejectsFields('managerId');
  });

  it('rejects a manager id no user could be, on registration and reassignment', () => {
    for (const managerId of ['\u200B', 'm\uFEFFgr', 'system:importer']) {
      given(assetDecider, []).when(register({ managerId })).thenRejectsFields('managerId');
      given(assetDecider, [registered]).when({ type: 'ReassignAssetManager', assetId: 'a1', managerId, actor: ciso, at: T1 }).thenRejectsFields('managerId');
    }
  });

  it('reports every field problem at once', () => {
    const err = given(assetDecider, [])
      .when(register({ name: '', category: 'X' as never, managerId: '', confidentiality: 9, integrity: 0, availability: 1.5 }))
      .thenThrows(BadInputError);
    expect(Object.keys(err.fields).sort()).toEqual(['availability', 'category', 'confidentiality', 'integrity', 'managerId', 'name']);
  });

  it('is idempotent: registering the same asset again yields nothing', () => {
    given(assetDecider, [registered]).when(register({ at: T1 })).thenNothing();
  });

  it('rejects registering an existing asset with different details', () => {
    given(assetDecider, [registered])
      .when(register({ integrity: 1 }))
      .thenThrows(RuleViolationError, { rule: 'ASSET_ALREADY_REGISTERED', article: 'Art.14(2)' });
  });

  it('lets the CISO register for any department', () => {
    given(assetDecider, [])
      .when(register({ actor: ciso, department: 'Sales' }))
      .thenMatches([{ type: 'AssetRegistered', data: { department: 'Sales', registeredBy: 'u-ciso' } }]);
  });

  it('forbids an ASSET_MANAGER to register for another department', () => {
    given(assetDecider, []).when(register({ actor: otherManager })).thenThrows(ForbiddenError);
  });

  it('forbids an ASSET_MANAGER without a department', () => {
    given(assetDecider, []).when(register({ actor: managerWithoutDept })).thenThrows(ForbiddenError);
  });

  it('lets an ASSET_MANAGER register in their department spelt otherwise (case, width), keeping the spelling given', () => {
    given(assetDecider, [])
      .when(register({ department: 'ＣＵＳＴＯＤＹ' }))
      .thenMatches([{ type: 'AssetRegistered', data: { department: 'ＣＵＳＴＯＤＹ' } }]);
  });

  it('rejects a department of only invisible code points (its key would be empty, nobody\'s department)', () => {
    given(assetDecider, []).when(register({ department: '\u200D', actor: ciso })).thenRejectsFields('department');
  });

  it.each([
    ['COMMITTEE_MEMBER', committee],
    ['AUDITOR', auditor],
    ['RISK_OWNER', riskOwner],
    ['ADMIN', admin],
  ])('forbids a %s', (_role, actor) => {
    given(assetDecider, []).when(register({ actor })).thenThrows(ForbiddenError);
  });
});

describe('InformationAsset: IdentifyThreat', () => {
  it('identifies a threat and increments the version', () => {
    const { state } = given(assetDecider, [registered]).when(identifyThreat()).then([threatIdentified]);
    expect(state.version).toBe(1);
    expect(state.updatedAt).toBe(T1);
    expect(state.threats).toEqual([
      {
        id: 't1',
        name: 'Key theft by intrusion',
        description: 'An attacker gets into the server and copies the hot-wallet key',
        affects: ['CONFIDENTIALITY', 'INTEGRITY'],
        identifiedAt: T1,
        identifiedBy: 'u-mgr',
        vulnerabilities: [],
      },
    ]);
  });

  it('stores affects in canonical order', () => {
    given(assetDecider, [registered])
      .when(identifyThreat({ affects: ['INTEGRITY', 'CONFIDENTIALITY'] }))
      .then([threatIdentified]);
  });

  it('rejects an empty affects list', () => {
    const err = given(assetDecider, [registered]).when(identifyThreat({ affects: [] })).thenThrows(BadInputError);
    expect(err.fields).toHaveProperty('affects');
  });

  it('rejects duplicates in affects', () => {
    given(assetDecider, [registered])
      .when(identifyThreat({ affects: ['INTEGRITY', 'INTEGRITY'] }))
      .thenRejectsFields('affects[1]');
  });

  it('rejects an unknown security property', () => {
    given(assetDecider, [registered])
      .when(identifyThreat({ affects: ['AUTHENTICITY' as never] }))
      .thenRejectsFields('affects[0]');
  });

  it('rejects an empty or too long name and a too long description', () => {
    given(assetDecider, [registered]).when(identifyThreat({ name: '' })).thenRejectsFields('name');
    given(assetDecider, [registered]).when(identifyThreat({ name: 'n'.repeat(201) })).thenRejectsFields('name');
    given(assetDecider, [registered]).when(identifyThreat({ description: 'd'.repeat(10_001) })).thenRejectsFields('description');
  });

  it('is idempotent for the same name (case-insensitive, trimmed) and the same affects set', () => {
    given(assetDecider, [registered, threatIdentified])
      .when(identifyThreat({ threatId: 't9', name: '  KEY THEFT BY INTRUSION ', affects: ['INTEGRITY', 'CONFIDENTIALITY'] }))
      .thenNothing();
  });

  it('rejects the same name and affects with another description (THREAT_NAME_NOT_UNIQUE): it was answered as done, the description recorded nowhere', () => {
    given(assetDecider, [registered, threatIdentified])
      .when(identifyThreat({ threatId: 't9', description: 'Another account of it' }))
      .thenThrows(RuleViolationError, { rule: 'THREAT_NAME_NOT_UNIQUE', article: 'Art.14(2)', message: expect.stringMatching(/with another description$/) });
  });

  it('rejects the same name with different affects (THREAT_NAME_NOT_UNIQUE)', () => {
    given(assetDecider, [registered, threatIdentified])
      .when(identifyThreat({ threatId: 't2', name: 'key theft by intrusion', affects: ['AVAILABILITY'] }))
      .thenThrows(RuleViolationError, { rule: 'THREAT_NAME_NOT_UNIQUE', article: 'Art.14(2)' });
  });

  it('rejects a threat id already used under another name', () => {
    given(assetDecider, [registered, threatIdentified])
      .when(identifyThreat({ name: 'DDoS' }))
      .thenThrows(RuleViolationError, { rule: 'THREAT_ID_NOT_UNIQUE' });
  });

  it('answers NotFound for an asset that does not exist', () => {
    given(assetDecider, []).when(identifyThreat()).thenThrows(NotFoundError, { entity: 'Asset', id: 'a1' });
  });

  it('rejects it on a retired asset (ASSET_RETIRED)', () => {
    given(assetDecider, [registered, retired])
      .when(identifyThreat())
      .thenThrows(RuleViolationError, { rule: 'ASSET_RETIRED', article: 'Art.14(2)' });
  });

  it('forbids an ASSET_MANAGER of another department, allows the CISO', () => {
    given(assetDecider, [registered]).when(identifyThreat({ actor: otherManager })).thenThrows(ForbiddenError);
    given(assetDecider, [registered])
      .when(identifyThreat({ actor: ciso }))
      .thenMatches([{ type: 'ThreatIdentified', data: { identifiedBy: 'u-ciso' } }]);
  });

  it('lets an ASSET_MANAGER act on their department spelt otherwise: one department, as for the name rule (probe p14 F3)', () => {
    for (const department of ['custody', 'CUSTODY', 'ｃｕｓｔｏｄｙ', ' Custody ']) {
      given(assetDecider, [registered])
        .when(identifyThreat({ actor: { ...manager, department } }))
        .thenMatches([{ type: 'ThreatIdentified', data: { identifiedBy: 'u-mgr' } }]);
    }
    given(assetDecider, [registered]).when(identifyThreat({ actor: { ...manager, department: 'Cust ody' } })).thenThrows(ForbiddenError);
  });

  it('forbids other roles even before looking the asset up', () => {
    given(assetDecider, []).when(identifyThreat({ actor: auditor })).thenThrows(ForbiddenError);
    given(assetDecider, [registered]).when(identifyThreat({ actor: committee })).thenThrows(ForbiddenError);
  });
});

describe('InformationAsset: IdentifyVulnerability', () => {
  it('identifies a vulnerability under a threat of the asset', () => {
    const { state } = given(assetDecider, [registered, threatIdentified]).when(identifyVulnerability()).then([vulnerabilityIdentified]);
    expect(state.version).toBe(2);
    expect(state.threats[0].vulnerabilities).toEqual([
      { id: 'v1', name: 'Unpatched SSH daemon', description: 'CVE backlog on the bastion', identifiedAt: T2, identifiedBy: 'u-mgr' },
    ]);
  });

  it('answers NotFound(Threat) when the threat does not belong to the asset', () => {
    given(assetDecider, [registered, threatIdentified])
      .when(identifyVulnerability({ threatId: 't-other' }))
      .thenThrows(NotFoundError, { entity: 'Threat', id: 't-other' });
  });

  it('is idempotent for a duplicate name under the same threat', () => {
    given(assetDecider, [registered, threatIdentified, vulnerabilityIdentified])
      .when(identifyVulnerability({ vulnerabilityId: 'v2', name: 'unpatched ssh DAEMON ' }))
      .thenNothing();
  });

  it('rejects a duplicate name under the same threat with another description (VULNERABILITY_NAME_NOT_UNIQUE): it was answered as done, the description recorded nowhere', () => {
    given(assetDecider, [registered, threatIdentified, vulnerabilityIdentified])
      .when(identifyVulnerability({ vulnerabilityId: 'v2', name: 'unpatched ssh DAEMON ', description: 'Another account of it' }))
      .thenThrows(RuleViolationError, { rule: 'VULNERABILITY_NAME_NOT_UNIQUE', article: 'Art.14(2)', message: expect.stringMatching(/already has a vulnerability named .* with another description/) });
  });

  it('allows the same name under another threat', () => {
    const t2: AssetEvent = { ...threatIdentified, data: { ...threatIdentified.data, threatId: 't2', name: 'Insider copies key' } };
    given(assetDecider, [registered, threatIdentified, vulnerabilityIdentified, t2])
      .when(identifyVulnerability({ threatId: 't2', vulnerabilityId: 'v2' }))
      .thenMatches([{ type: 'VulnerabilityIdentified', data: { threatId: 't2', vulnerabilityId: 'v2' } }]);
  });

  it('rejects a vulnerability id already used', () => {
    given(assetDecider, [registered, threatIdentified, vulnerabilityIdentified])
      .when(identifyVulnerability({ name: 'Weak passwords' }))
      .thenThrows(RuleViolationError, { rule: 'VULNERABILITY_ID_NOT_UNIQUE' });
  });

  it('validates name and description', () => {
    given(assetDecider, [registered, threatIdentified]).when(identifyVulnerability({ name: ' ' })).thenRejectsFields('name');
    given(assetDecider, [registered, threatIdentified])
      .when(identifyVulnerability({ description: 'x'.repeat(10_001) }))
      .thenRejectsFields('description');
  });

  it('rejects it on a retired asset', () => {
    given(assetDecider, [registered, threatIdentified, retired])
      .when(identifyVulnerability())
      .thenThrows(RuleViolationError, { rule: 'ASSET_RETIRED' });
  });

  it('forbids an ASSET_MANAGER of another department', () => {
    given(assetDecider, [registered, threatIdentified]).when(identifyVulnerability({ actor: otherManager })).thenThrows(ForbiddenError);
  });
});

describe('InformationAsset: at most ASSET_LIMITS threats and vulnerabilities (hostile probe of 2026-12-07, F3)', () => {
  const threats = (n: number): AssetEvent[] =>
    Array.from({ length: n }, (_, i): AssetEvent => ({ ...threatIdentified, data: { ...threatIdentified.data, threatId: `t${i + 1}`, name: `Threat ${i + 1}` } }));
  it(`an asset holds ${ASSET_LIMITS.threats} threats; one more is TOO_MANY_THREATS, the same one again is still satisfied`, () => {
    const full = [registered, ...threats(ASSET_LIMITS.threats)];
    given(assetDecider, full.slice(0, -1)).when(identifyThreat({ threatId: 'tx', name: 'One more' })).thenMatches([{ type: 'ThreatIdentified' }]);
    given(assetDecider, full).when(identifyThreat({ threatId: 'tx', name: 'One more' })).thenThrows(RuleViolationError, { rule: 'TOO_MANY_THREATS', article: 'Art.14(2)' });
    given(assetDecider, full).when(identifyThreat({ threatId: 'tx', name: 'Threat 1' })).thenNothing();
  });

  it(`an asset's threats and vulnerabilities hold ${ASSET_LIMITS.textCharacters} characters of names and descriptions; past it ASSET_TOO_LARGE (hostile re-probe of 2026-12-07, B)`, () => {
    const long = 'x'.repeat(10_000);
    const count = Math.floor(ASSET_LIMITS.textCharacters / 10_009); // names of 9 characters: under 10,000 left
    const big = [registered, ...Array.from({ length: count }, (_, i): AssetEvent => ({ ...threatIdentified, data: { ...threatIdentified.data, threatId: `t${i + 1}`, name: `T${String(i).padStart(8, '0')}`, description: long } }))];
    const used = count * (9 + 10_000);
    const room = ASSET_LIMITS.textCharacters - used;
    given(assetDecider, big).when(identifyThreat({ threatId: 'tx', name: 'Last one', description: 'd'.repeat(room - 'Last one'.length) })).thenMatches([{ type: 'ThreatIdentified' }]);
    given(assetDecider, big).when(identifyThreat({ threatId: 'tx', name: 'Last one', description: 'd'.repeat(room - 'Last one'.length + 1) })).thenThrows(RuleViolationError, { rule: 'ASSET_TOO_LARGE', article: 'Art.14(2)' });
    given(assetDecider, big).when(identifyVulnerability({ threatId: 't1', vulnerabilityId: 'vx', name: 'Weak', description: long })).thenThrows(RuleViolationError, { rule: 'ASSET_TOO_LARGE' });
  });

  it(`an asset's threats hold ${ASSET_LIMITS.vulnerabilities} vulnerabilities together; one more is TOO_MANY_VULNERABILITIES`, () => {
    const perThreat = ASSET_LIMITS.vulnerabilities / 10;
    const vulnerabilities = (count: number): AssetEvent[] =>
      Array.from({ length: count }, (_, i): AssetEvent => ({ ...vulnerabilityIdentified, data: { ...vulnerabilityIdentified.data, threatId: `t${Math.floor(i / perThreat) + 1}`, vulnerabilityId: `v${i + 1}`, name: `Weakness ${i + 1}` } }));
    const full = [registered, ...threats(10), ...vulnerabilities(ASSET_LIMITS.vulnerabilities)];
    given(assetDecider, full.slice(0, -1)).when(identifyVulnerability({ threatId: 't10', vulnerabilityId: 'vx', name: 'One more' })).thenMatches([{ type: 'VulnerabilityIdentified' }]);
    given(assetDecider, full).when(identifyVulnerability({ threatId: 't1', vulnerabilityId: 'vx', name: 'One more' })).thenThrows(RuleViolationError, { rule: 'TOO_MANY_VULNERABILITIES', article: 'Art.14(2)' });
  });
});

describe('InformationAsset: ReassignAssetManager', () => {
  it('reassigns and records the previous manager', () => {
    const { state } = given(assetDecider, [registered])
      .when({ type: 'ReassignAssetManager', assetId: 'a1', managerId: 'u-new', actor: ciso, at: T1 })
      .then([
        {
          type: 'AssetManagerReassigned',
          data: { assetId: 'a1', previousManagerId: 'u-mgr', managerId: 'u-new', reassignedBy: 'u-ciso', reassignedAt: T1 },
        },
      ]);
    expect(state).toMatchObject({ managerId: 'u-new', version: 1, updatedAt: T1 });
  });

  it('is idempotent for the same manager', () => {
    given(assetDecider, [registered]).when({ type: 'ReassignAssetManager', assetId: 'a1', managerId: 'u-mgr', actor: manager, at: T1 }).thenNothing();
  });

  it('rejects an empty managerId', () => {
    given(assetDecider, [registered])
      .when({ type: 'ReassignAssetManager', assetId: 'a1', managerId: '  ', actor: manager, at: T1 })
      .thenRejectsFields('managerId');
  });

  it('forbids an ASSET_MANAGER of another department', () => {
    given(assetDecider, [registered])
      .when({ type: 'ReassignAssetManager', assetId: 'a1', managerId: 'u-x', actor: otherManager, at: T1 })
      .thenThrows(ForbiddenError);
  });

  it('rejects it on a retired asset', () => {
    given(assetDecider, [registered, retired])
      .when({ type: 'ReassignAssetManager', assetId: 'a1', managerId: 'u-x', actor: manager, at: T2 })
      .thenThrows(RuleViolationError, { rule: 'ASSET_RETIRED' });
  });

  it('answers NotFound for an unknown asset', () => {
    given(assetDecider, [])
      .when({ type: 'ReassignAssetManager', assetId: 'nope', managerId: 'u-x', actor: ciso, at: T1 })
      .thenThrows(NotFoundError, { entity: 'Asset', id: 'nope' });
  });
});

describe('InformationAsset: RetireAsset', () => {
  it('retires the asset with its reason', () => {
    const { state } = given(assetDecider, [registered, threatIdentified])
      .when({ type: 'RetireAsset', assetId: 'a1', reason: ' Replaced by HSM ', actor: manager, at: T2 })
      .then([retired as AssetEvent]);
    expect(state).toMatchObject({ status: 'RETIRED', retiredAt: T2, retirementReason: 'Replaced by HSM', version: 2, updatedAt: T2 });
    expect(state.threats).toHaveLength(1);
  });

  it('requires a reason', () => {
    given(assetDecider, [registered]).when({ type: 'RetireAsset', assetId: 'a1', reason: '', actor: manager, at: T2 }).thenRejectsFields('reason');
  });

  it('is idempotent when already retired for that reason; another reason is refused (it was answered as done and recorded nowhere); the reaction to an avoided risk finds it done', () => {
    given(assetDecider, [registered, retired])
      .when({ type: 'RetireAsset', assetId: 'a1', reason: ' Replaced by HSM', actor: manager, at: T2 })
      .thenNothing();
    given(assetDecider, [registered, retired])
      .when({ type: 'RetireAsset', assetId: 'a1', reason: 'again', actor: manager, at: T2 })
      .thenThrows(RuleViolationError, { rule: 'ASSET_RETIRED', article: 'Art.14(2)' });
    given(assetDecider, [registered, retired])
      .when({ type: 'RetireAsset', assetId: 'a1', reason: 'Risk r-1 avoided', avoidedRiskId: 'r-1', actor: manager, at: T2 })
      .thenNothing();
  });

  it('rejects registering a retired asset again (ASSET_RETIRED)', () => {
    given(assetDecider, [registered, retired]).when(register()).thenThrows(RuleViolationError, { rule: 'ASSET_RETIRED' });
  });

  it('forbids an ASSET_MANAGER of another department and other roles', () => {
    given(assetDecider, [registered])
      .when({ type: 'RetireAsset', assetId: 'a1', reason: 'x', actor: otherManager, at: T2 })
      .thenThrows(ForbiddenError);
    given(assetDecider, [registered])
      .when({ type: 'RetireAsset', assetId: 'a1', reason: 'x', actor: auditor, at: T2 })
      .thenThrows(ForbiddenError);
  });
});

describe('InformationAsset: versions, schema and stream', () => {
  it('increments version for every event', () => {
    const { state } = given(assetDecider, [registered, threatIdentified, vulnerabilityIdentified, retired]);
    expect(state.version).toBe(3);
    expect(assetDecider.initialState.version).toBe(-1);
  });

  it('has schema version 1 for every event type and an identity upcaster', () => {
    expect(assetEventSchemaVersions).toEqual({
      AssetRegistered: 1,
      ThreatIdentified: 1,
      VulnerabilityIdentified: 1,
      AssetManagerReassigned: 1,
      AssetRetired: 1,
    });
    expect(upcastAssetEvent('AssetRegistered', 1, registered.data)).toEqual(registered);
    expect(() => upcastAssetEvent('Nope', 1, {})).toThrow();
    expect(() => upcastAssetEvent('AssetRegistered', 2, {})).toThrow();
  });

  it('names the stream asset-<id>', () => {
    expect(assetStreamId('a1')).toBe('asset-a1');
  });

  it('keeps event data plain JSON', () => {
    const events = [registered, threatIdentified, vulnerabilityIdentified, retired];
    expect(JSON.parse(JSON.stringify(events))).toEqual(events);
  });
});

describe('retirement that follows the avoidance of a risk (Art.17)', () => {
  it('needs no asset role: the committee decision is the authority, and the event names the risk', async () => {
    const { assetDecider } = await import('../../../src/asset-inventory/domain/asset.decider.js');
    const system = { id: 'system:process-manager', name: 'Process manager', roles: [] };
    const registered = assetDecider.decide(
      { type: 'RegisterAsset', assetId: 'a-1', name: 'Old exchange', description: '', category: 'SERVICE', department: 'ops', managerId: 'm', confidentiality: 1, integrity: 1, availability: 1, actor: { id: 'c', name: 'CISO', roles: ['CISO'] }, at: '2025-01-01T00:00:00.000Z' },
      assetDecider.initialState,
    );
    const state = registered.reduce(assetDecider.evolve, assetDecider.initialState);
    const events = assetDecider.decide({ type: 'RetireAsset', assetId: 'a-1', reason: 'Risk r-1 avoided', avoidedRiskId: 'r-1', actor: system, at: '2025-02-01T00:00:00.000Z' }, state);
    expect(events).toEqual([{ type: 'AssetRetired', data: { assetId: 'a-1', reason: 'Risk r-1 avoided', retiredBy: 'system:process-manager', retiredAt: '2025-02-01T00:00:00.000Z', avoidedRiskId: 'r-1' } }]);
    // Without the risk, the same actor is refused.
    expect(() => assetDecider.decide({ type: 'RetireAsset', assetId: 'a-1', reason: 'x', actor: system, at: '2025-02-01T00:00:00.000Z' }, state)).toThrow(/ASSET_MANAGER/);
  });
});
