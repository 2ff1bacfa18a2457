import { criteria3x3 } from '../../support/criteria-definitions.js';
import { TestApp, users } from './test-app.js';

/** 3x3 criteria: LOW/MEDIUM/HIGH, acceptance LOW; BASELINE required from asset value 2, DETAILED from 3. */
export const criteriaInput = criteria3x3();

export const RISK_FIELDS = `id version title ownerId status cycle likelihood impact level criteriaNumber priority needsReevaluation assetsRetired
  analyses { id method likelihood impact level criteriaNumber cycle baseline { gap impact } informal { expert } detailed { assessments { assetId score likelihood impact level } } }
  evaluation { decision level criteriaNumber assetValue }
  treatment { options targetLikelihood targetImpact targetLevel counterparty contractReference }
  controls { id title ownerId dueDate reason }
  consent { planId status atVersion fingerprint reason }
  reviews { id finding actualLevel targetLevel }`;

export async function proposeAndApproveCriteria(t: TestApp, overrides: Partial<typeof criteriaInput> = {}): Promise<{ id: string; number: number }> {
  const { proposeRiskCriteria } = await t.ok(`mutation($input: ProposeRiskCriteriaInput!) { proposeRiskCriteria(input: $input) { id number status } }`, { input: { ...criteriaInput, ...overrides } }, users.committee);
  const { approveRiskCriteria } = await t.ok(`mutation($input: ApproveRiskCriteriaInput!) { approveRiskCriteria(input: $input) { id number status } }`, { input: { criteriaId: proposeRiskCriteria.id } }, users.ciso);
  return approveRiskCriteria;
}

/** An ops asset with one threat (affecting the given properties) and one vulnerability. */
export async function assetWithThreat(t: TestApp, name: string, ratings: { c: number; i: number; a: number }, affects: string[] = ['CONFIDENTIALITY', 'INTEGRITY']) {
  const { registerAsset } = await t.ok(
    `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id } }`,
    { input: { name, category: 'SYSTEM', department: 'ops', managerId: 'mgr-ops', confidentiality: ratings.c, integrity: ratings.i, availability: ratings.a } },
    users.opsManager,
  );
  const { identifyThreat } = await t.ok(`mutation($input: IdentifyThreatInput!) { identifyThreat(input: $input) { threats { id } } }`, { input: { assetId: registerAsset.id, name: 'Key theft', affects } }, users.opsManager);
  const threatId = identifyThreat.threats[0].id;
  const { identifyVulnerability } = await t.ok(
    `mutation($input: IdentifyVulnerabilityInput!) { identifyVulnerability(input: $input) { threats { vulnerabilities { id } } } }`,
    { input: { assetId: registerAsset.id, threatId, name: 'Keys in a hot wallet' } },
    users.opsManager,
  );
  return { assetId: registerAsset.id as string, threatId: threatId as string, vulnerabilityId: identifyThreat && (identifyVulnerability.threats[0].vulnerabilities[0].id as string) };
}

export async function identifyRisk(t: TestApp, asset: { assetId: string; threatId: string; vulnerabilityId: string }, title = 'Theft of hot-wallet keys', owner = users.riskOwner) {
  const { identifyRisk: risk } = await t.ok(
    `mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { ${RISK_FIELDS} } }`,
    { input: { title, assetIds: [asset.assetId], threatId: asset.threatId, vulnerabilityId: asset.vulnerabilityId, ownerId: owner.sub, externalReferences: ['Coincheck incident, January 2018'] } },
    owner,
  );
  return risk;
}

export const ANALYSE = `mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { ${RISK_FIELDS} } }`;
export const EVALUATE = `mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { ${RISK_FIELDS} } }`;

/** Answers every requirement of the built-in catalogue: `notMet` NOT_MET, `partial` PARTIAL, the rest MET. */
export async function baselineResults(t: TestApp, notMet: number, partial: number) {
  const { baselineCatalogues } = await t.ok(`{ baselineCatalogues { id builtIn requirements { id } } }`, {}, users.auditor);
  const builtIn = baselineCatalogues.find((c: any) => c.builtIn);
  const results = builtIn.requirements.map((r: any, i: number) => ({ requirementId: r.id, status: i < notMet ? 'NOT_MET' : i < notMet + partial ? 'PARTIAL' : 'MET' }));
  return { catalogueId: builtIn.id as string, results, count: builtIn.requirements.length as number };
}

/** Today in Japan (YYYY-MM-DD): a board meeting is dated neither in the future nor before the plan's submission. */
export function todayInJapan(): string {
  return new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
}
