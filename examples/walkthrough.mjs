#!/usr/bin/env node
// The whole Chapter 4 process against a running Risk Ledger, one person (one token) per role:
// criteria (Art.13) -> asset, threat, vulnerability (Art.14(2)) -> risk (Art.14(1)) -> analysis
// (Art.15) -> evaluation (Art.16) -> treatment (Art.17) -> controls (Art.18) -> plan, board
// resolution (Art.19) -> the owner's consent (Art.20) -> review (Art.12(3)).
//
// Node 20 or later, nothing to install (fetch is built in). The README walks through the same
// steps by hand; test/e2e/walkthrough.e2e.spec.ts runs this file against a real server.
//
//   RISK_LEDGER_URL   the server (default http://localhost:3000)
//   TOKEN_<PERSON>    a bearer token for a person below (TOKEN_ALICE, TOKEN_CAROL, TOKEN_DAVE,
//                     TOKEN_OWEN, TOKEN_BELLA, TOKEN_AUDREY); a missing one is issued by the CLI,
//   RISK_LEDGER_CLI   `node <this repository>/dist/src/cli/main.js` by default, which signs with the
//                     server's key: run it with the server's JWT_SECRET or DATA_DIR.
//
// Prints each step and, last, one JSON line with the ids and final states. Exit 1 on any error.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BASE = (process.env.RISK_LEDGER_URL ?? 'http://localhost:3000').replace(/\/$/, '');
const CLI = process.env.RISK_LEDGER_CLI ?? fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

// One person per role. Criteria are proposed by Carol and approved by Dave (Art.23(3): never the
// proposer); the plan is drafted by Carol and its resolution recorded by Bella, who did not draft it.
const PEOPLE = {
  alice: { roles: 'ASSET_MANAGER', department: 'ops', name: 'Alice (asset manager, ops)' },
  carol: { roles: 'COMMITTEE_MEMBER', name: 'Carol (risk committee)' },
  dave: { roles: 'CISO', name: 'Dave (CISO)' },
  owen: { roles: 'RISK_OWNER', name: 'Owen (risk owner)' },
  bella: { roles: 'BOARD_SECRETARY', name: 'Bella (board secretary)' },
  audrey: { roles: 'AUDITOR', name: 'Audrey (internal auditor)' },
};

function tokenOf(person) {
  const given = process.env[`TOKEN_${person.toUpperCase()}`];
  if (given) return given;
  const p = PEOPLE[person];
  const args = ['token', '--sub', person, '--name', p.name, '--roles', p.roles, ...(p.department ? ['--department', p.department] : [])];
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8' }).trim();
}

const tokens = Object.fromEntries(Object.keys(PEOPLE).map((person) => [person, tokenOf(person)]));

/** One GraphQL operation as `person`; throws with the server's error (code, rule, fields) if it fails. */
async function gql(person, query, variables = {}) {
  const response = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[person]}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new Error(`${person}: ${JSON.stringify(body.errors[0])}`);
  return body.data;
}

function step(text) {
  process.stdout.write(`- ${text}\n`);
}

/** Today in Japan (YYYY-MM-DD): a board meeting is neither in the future nor before the submission. */
const todayInJapan = () => new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);

async function main() {
  // Art.13: the criteria. A 3 x 3 matrix, acceptance LOW; BASELINE required from asset value 2.
  const { proposeRiskCriteria: criteria } = await gql('carol', `mutation($input: ProposeRiskCriteriaInput!) { proposeRiskCriteria(input: $input) { id number status } }`, {
    input: {
      likelihoodLevels: ['Rare', 'Possible', 'Likely'],
      impactLevels: ['Minor', 'Moderate', 'Severe'],
      riskLevels: ['LOW', 'MEDIUM', 'HIGH'],
      matrix: [['LOW', 'LOW', 'MEDIUM'], ['LOW', 'MEDIUM', 'HIGH'], ['MEDIUM', 'HIGH', 'HIGH']],
      acceptanceLevel: 'LOW',
      impactByAssetValue: [1, 2, 3],
      baselineGapThresholds: [0.25, 0.5],
      detailedLikelihoodThresholds: [3, 6],
      requiredMethods: [{ minAssetValue: 2, method: 'BASELINE' }, { minAssetValue: 3, method: 'DETAILED' }],
      reviewIntervalDays: [{ level: 'LOW', days: 365 }, { level: 'MEDIUM', days: 180 }, { level: 'HIGH', days: 90 }],
    },
  });
  step(`Carol proposed risk criteria ${criteria.id} (number ${criteria.number}, ${criteria.status})`);
  const { approveRiskCriteria: approved } = await gql('dave', `mutation($input: ApproveRiskCriteriaInput!) { approveRiskCriteria(input: $input) { id number status } }`, { input: { criteriaId: criteria.id } });
  step(`Dave (CISO) approved them: ${approved.status}`);

  // Art.14(2): the asset, a threat to it and a vulnerability. Value = max(C, I, A) = 2. Names are
  // unique per department: each run names its own asset, so the script runs again on one store.
  const { registerAsset: asset } = await gql('alice', `mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id value status } }`, {
    input: { name: `Hot wallet signer (walkthrough ${new Date().toISOString()})`, category: 'SYSTEM', department: 'ops', managerId: 'alice', confidentiality: 2, integrity: 2, availability: 1 },
  });
  step(`Alice registered asset ${asset.id} (value ${asset.value})`);
  const { identifyThreat } = await gql('alice', `mutation($input: IdentifyThreatInput!) { identifyThreat(input: $input) { threats { id name } } }`, {
    input: { assetId: asset.id, name: 'Theft of signing keys', affects: ['CONFIDENTIALITY', 'INTEGRITY'] },
  });
  const threatId = identifyThreat.threats[0].id;
  const { identifyVulnerability } = await gql('alice', `mutation($input: IdentifyVulnerabilityInput!) { identifyVulnerability(input: $input) { threats { id vulnerabilities { id } } } }`, {
    input: { assetId: asset.id, threatId, name: 'Keys held online in the hot wallet' },
  });
  const vulnerabilityId = identifyVulnerability.threats.find((t) => t.id === threatId).vulnerabilities[0].id;
  step(`Alice identified threat ${threatId} and vulnerability ${vulnerabilityId}`);

  // Art.14(1): the risk, owned by Owen.
  const RISK = 'id version status level cycle consent { status planId } controls { id title status }';
  const { identifyRisk: risk } = await gql('owen', `mutation($input: IdentifyRiskInput!) { identifyRisk(input: $input) { ${RISK} } }`, {
    input: { title: 'Theft of hot-wallet keys', assetIds: [asset.id], threatId, vulnerabilityId, ownerId: 'owen' },
  });
  step(`Owen identified risk ${risk.id} (${risk.status})`);

  // Art.15: the baseline method against the built-in catalogue, half of it not met (gap 0.5 -> likelihood 3; impact 2 -> HIGH).
  const { baselineCatalogues } = await gql('owen', `{ baselineCatalogues { id builtIn requirements { id } } }`);
  const catalogue = baselineCatalogues.find((c) => c.builtIn);
  const results = catalogue.requirements.map((r, i) => ({ requirementId: r.id, status: i < catalogue.requirements.length / 2 ? 'NOT_MET' : 'MET' }));
  const { analyseRisk: analysed } = await gql('owen', `mutation($input: AnalyseRiskInput!) { analyseRisk(input: $input) { ${RISK} } }`, {
    input: { riskId: risk.id, method: 'BASELINE', baseline: { catalogueId: catalogue.id, results, impact: 2 } },
  });
  step(`Owen analysed it by the baseline method: level ${analysed.level}`);

  // Art.16: evaluated against the acceptance criterion.
  const { evaluateRisk: evaluated } = await gql('carol', `mutation($input: RiskRefInput!) { evaluateRisk(input: $input) { ${RISK} } }`, { input: { riskId: risk.id } });
  step(`Carol evaluated it: ${evaluated.status}`);

  // Art.17 and 18: treatment to a target within acceptance, then the controls and their reasons.
  const { decideTreatment: treated } = await gql('carol', `mutation($input: DecideTreatmentInput!) { decideTreatment(input: $input) { ${RISK} } }`, {
    input: { riskId: risk.id, options: ['REDUCE'], rationale: 'Cold storage and multi-signature withdrawals', targetLikelihood: 1, targetImpact: 1 },
  });
  step(`Carol decided the treatment: ${treated.status}`);
  const { decideControls: controlled } = await gql('carol', `mutation($input: DecideControlsInput!) { decideControls(input: $input) { ${RISK} } }`, {
    input: {
      riskId: risk.id,
      controls: [
        { title: 'Move 95% of funds to cold storage', description: 'Sweep the hot wallet down to its limit daily', ownerId: 'alice', dueDate: '2099-03-31', reason: 'Limits what a hot-wallet compromise can take' },
        { title: 'Multi-signature withdrawals', description: '2-of-3 keys held by separate officers', ownerId: 'alice', dueDate: '2099-06-30', reason: 'No single stolen key moves funds' },
      ],
    },
  });
  step(`Carol decided the controls: ${controlled.status}`);

  // Art.19: the plan, drafted and submitted by Carol; the board's resolution recorded by Bella.
  const PLAN = 'id version revision status items { riskId consent }';
  const { draftPlan: plan } = await gql('carol', `mutation($input: DraftPlanInput!) { draftPlan(input: $input) { ${PLAN} } }`, { input: { title: 'Information security management plan FY2026', period: 'FY2026' } });
  step(`Carol drafted plan ${plan.id} (${plan.status})`);
  await gql('carol', `mutation($input: PlanRiskInput!) { addRiskToPlan(input: $input) { ${PLAN} } }`, { input: { planId: plan.id, riskId: risk.id } });
  const { submitPlan: submitted } = await gql('carol', `mutation($input: PlanRefInput!) { submitPlan(input: $input) { ${PLAN} } }`, { input: { planId: plan.id } });
  step(`Carol added the risk and submitted the plan: ${submitted.status}`);
  const { recordBoardResolution: resolved } = await gql('bella', `mutation($input: RecordBoardResolutionInput!) { recordBoardResolution(input: $input) { ${PLAN} } }`, {
    input: { planId: plan.id, resolutionNumber: 'BR-2026-021', meetingDate: todayInJapan(), decision: 'APPROVED', minutesReference: 'Board minutes, item 2' },
  });
  step(`Bella recorded the board's resolution: ${resolved.status}`);

  // Art.20: the owner consents to the residual risk; with every consent in, the plan is in force.
  const { acceptResidualRisk: inForce } = await gql('owen', `mutation($input: AcceptResidualRiskInput!) { acceptResidualRisk(input: $input) { ${PLAN} } }`, {
    input: { planId: plan.id, riskId: risk.id, statement: 'I accept the residual risk LOW' },
  });
  step(`Owen accepted the residual risk: the plan is ${inForce.status}`);

  // Art.18-19: the controls' owner records them implemented (a review finds them in place only then).
  const implemented = [];
  for (const control of controlled.controls) {
    const { recordControlProgress } = await gql('alice', `mutation($input: RecordControlProgressInput!) { recordControlProgress(input: $input) { controls { id status } } }`, {
      input: { riskId: risk.id, controlId: control.id, status: 'IMPLEMENTED', note: `${control.title}: done` },
    });
    implemented.push(recordControlProgress.controls.find((c) => c.id === control.id).status);
  }
  step(`Alice recorded both controls: ${implemented.join(', ')}`);

  // Art.12(3): a review; the controls work, the actual level is the target, nothing reopens.
  const { recordReview: reviewed } = await gql('owen', `mutation($input: RecordReviewInput!) { recordReview(input: $input) { ${RISK} reviews { finding actualLevel } } }`, {
    input: { riskId: risk.id, controlsInPlace: true, actualLikelihood: 1, actualImpact: 1, notes: 'Quarterly review: both controls in place' },
  });
  step(`Owen recorded a review: the risk stays ${reviewed.status}`);

  // What an auditor sees: the risk's history, with who did each step.
  const { history } = await gql('audrey', `query($id: ID!) { history(id: $id) { type metadata { actor { id } } } }`, { id: risk.id });
  step(`Audrey read the risk's history: ${history.map((e) => `${e.type} by ${e.metadata.actor.id}`).join(', ')}`);

  process.stdout.write(
    JSON.stringify({
      criteria: { id: approved.id, status: approved.status },
      asset: { id: asset.id },
      risk: { id: risk.id, status: reviewed.status, level: analysed.level, reviews: reviewed.reviews.length },
      plan: { id: plan.id, status: inForce.status, consent: inForce.items.map((i) => i.consent) },
      history: history.map((e) => `${e.type}:${e.metadata.actor.id}`),
    }) + '\n',
  );
}

main().catch((error) => {
  process.stderr.write(`walkthrough failed: ${error.message}\n`);
  process.exit(1);
});
