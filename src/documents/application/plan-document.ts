/**
 * The information security management plan (情報の安全管理計画書, Art.19) as the board
 * reads it: a view with every label and date already resolved in the requested language, which
 * the Markdown and HTML templates only lay out. Pure: built from the read models at one point
 * of the log (DocumentData), so the same point gives the same document.
 */
import type { AssetLabel } from '../../asset-inventory/projections/asset-register.projection.js';
import type { RiskState } from '../../risk-register/domain/risk.state.js';
import { consentFingerprint } from '../../risk-register/domain/plan-and-consent.js';
import { analysisBeyondScales, cycleAnalysesUnder, needsReevaluation, residualLevelUnder, type CriteriaInForceView } from '../../risk-register/domain/risk.state.js';
import type { BoardResolution, ConsentExplanation, PlanItem, PlanRevisionRecord, PlanState } from '../../treatment-plan/domain/plan.state.js';
import { fill, labelOf, type Language, type Messages } from '../messages/index.js';
import { formatDay, formatInstant } from '../render/dates.js';
import type { DocumentData } from './document-source.js';
import { criteriaViewOf } from '../../risk-register/projections/risk-register.projection.js';
import { eachInTurns, eachInTurnsBySize } from '../../shared/application/turns.js';
import { assetLabel, rows, sourceView, type Row, type SourceView } from './document-view.js';
import type { PlanSubmission } from './plan-submission.js';
import type { EvidenceRow } from '../../evidence/projections/evidence.projection.js';

export interface ControlView {
  /** Where the control stands (the controls record only; the plan shows what was decided). */
  status?: string;
  title: string;
  description: string;
  owner: string;
  due: string;
  reason: string;
  reference: string;
}

export interface PlanRiskSection {
  no: number;
  title: string;
  rows: Row[];
  treatment: Row[];
  controls: ControlView[];
  residual: Row[];
}

export interface PlanSummaryRow {
  no: number;
  title: string;
  owner: string;
  level: string;
  treatment: string;
  residual: string;
  controlCount: number;
  consent: string;
}

export interface ConsentView {
  risk: string;
  owner: string;
  status: string;
  acceptedLevel: string;
  answeredAt: string;
  statement: string;
  /** Art. 20: what the committee recorded having explained to the owner, and when. */
  explained: string;
}

/** One revision of the plan: what the board was asked and how it ended (a withdrawal included). */
export interface RevisionView {
  revision: number;
  /** How many risks, and which (their titles as the revision held them; the first REVISION_TITLES). */
  risks: string;
  submitted: string;
  outcome: string;
  ended: string;
  note: string;
}

export interface PlanDocumentView {
  lang: Language;
  m: Messages;
  title: string;
  /** The plan's own title (the HTML page's title names both). */
  planTitle: string;
  basis: string;
  overview: Row[];
  summary: PlanSummaryRow[];
  risks: PlanRiskSection[];
  resolutions: Row[][];
  revisions: RevisionView[];
  consentsAsked: boolean;
  consents: ConsentView[];
  source: SourceView;
}

/** A plan's items read and turned into sections per turn of the event loop (a plan of 1,999 items held it 10-24 s: probe p10). */
const ITEMS_PER_TURN = 200;
/** And characters of the sections built per turn (a risk's assets may be 100 KB of names). */
const SECTION_CHARS_PER_TURN = 250_000;

/** About the characters of a risk's section's rows (its assets' names may be 100 KB), besides its controls. */
export function sectionRowsWeight(section: PlanRiskSection): number {
  return section.rows.reduce((n, r) => n + r.value.length, 200);
}

/** What a risk's section shows of its item: a current item, or one removed since the submission. */
type ContentItem = Pick<PlanItem, 'riskId' | 'riskTitle' | 'ownerId' | 'consent' | 'residualLevel'>;

/** The plan as submitted: the submission, and the read models at its commit. */
export interface AsSubmitted {
  submission: PlanSubmission;
  data: DocumentData;
}

/**
 * The document at `data`'s point. The risks (summary and sections) are shown as the board was
 * asked to decide on them when the plan's revision was submitted (`asSubmitted`: contract, "as
 * submitted to the board"), each item removed since or whose risk changed since marked so; a
 * draft shows them as they stand. Status, resolutions and consents are always as at the point.
 */
export async function planDocument(
  plan: PlanState,
  data: DocumentData,
  lang: Language,
  m: Messages,
  format: 'md' | 'html',
  asSubmitted: AsSubmitted | null = null,
  /** DOCUMENT_MAX_BYTES, charged each section's characters as it is built: past it the view stops there. */
  budget?: { add(amount: number): number },
): Promise<PlanDocumentView> {
  const none = m.common.none;
  const criteria = data.criteria;
  const content = asSubmitted?.data ?? data;
  const current = new Map(plan.items.map((item) => [item.riskId, item]));
  const items: ContentItem[] = asSubmitted
    ? asSubmitted.submission.items.map((s) => {
        const item = current.get(s.riskId);
        // A revision back in draft has no residual level fixed any more: the one submitted is shown.
        return item ? { ...item, residualLevel: item.residualLevel ?? s.residualLevel } : { ...s, consent: asSubmitted.submission.removed.get(s.riskId)?.consent ?? 'PENDING' };
      })
    : plan.items;
  // The risks as shown (as submitted, or as they stand), and as they stand at the point (every
  // current item is one of the submission's: nothing is added to a revision once submitted).
  const states = new Map<string, RiskState>();
  const nowStates = new Map<string, RiskState>();
  const notes = new Map<string, string>();
  await eachInTurns(items, ITEMS_PER_TURN, (item) => {
    const state = content.riskState(item.riskId);
    if (state) states.set(item.riskId, state);
    const now = asSubmitted ? data.riskState(item.riskId) : state;
    if (now) nowStates.set(item.riskId, now);
    if (!asSubmitted) return;
    const removal = asSubmitted.submission.removed.get(item.riskId);
    if (removal && !current.has(item.riskId)) notes.set(item.riskId, fill(m.plan.removedSinceSubmission, { at: formatInstant(removal.removedAt, lang), reason: removal.reason }));
    else if (state && now && consentFingerprint(now) !== consentFingerprint(state)) {
      // A new owner is said, not left to the consent table (compliance probe of 2026-12-05, F7: the details named the former one).
      const owner = now.ownerId !== state.ownerId ? fill(m.plan.ownerChangedSinceSubmission, { owner: now.ownerId, previous: state.ownerId }) : '';
      notes.set(item.riskId, fill(m.plan.changedSinceSubmission, { version: now.version }) + owner);
    }
  });
  const submittedUnder = plan.submittedUnderCriteria ?? asSubmitted?.submission.criteria;
  const inForce = criteriaViewOf(criteria);
  const sections: PlanRiskSection[] = [];
  let no = 0;
  // Consent is asked once the board approved the plan: before, an item's PENDING is no answer awaited.
  const consentsAsked = plan.status === 'APPROVED' || plan.status === 'IN_FORCE' || (plan.status === 'CLOSED' && plan.approvedAt !== undefined);
  const consentOf = (item: ContentItem) => (!current.has(item.riskId) ? m.plan.removed : consentsAsked ? consentLabel(item.consent, plan.status === 'CLOSED', m) : none);
  // A section per item, a slice of them (or of their characters) per turn: 300 risks naming 500
  // assets of 200 characters each held every other request 4 s (hostile probe of 2026-12-07, Finding 1).
  await eachInTurnsBySize(items, ITEMS_PER_TURN, SECTION_CHARS_PER_TURN, (item) => {
    const section = riskSection(++no, item, states.get(item.riskId), content, lang, m, { note: notes.get(item.riskId), status: nowStates.get(item.riskId)?.status, consent: consentOf(item) });
    sections.push(section);
    const weight = sectionRowsWeight(section);
    return budget ? budget.add(weight) : weight;
  });
  const options = (risk: RiskState | undefined) => (risk?.treatment?.options ?? []).map((o) => labelOf(m.enums.treatmentOption, o, none)).join(m.common.listSeparator) || none;
  return {
    lang,
    m,
    title: m.plan.title,
    planTitle: plan.title,
    basis: m.plan.basis,
    overview: rows(
      [m.plan.name, plan.title],
      [m.plan.period, plan.period],
      [m.plan.planId, plan.id],
      [m.plan.status, labelOf(m.enums.planStatus, plan.status, none)],
      [m.plan.revision, fill(m.plan.revisionValue, { revision: plan.revision })],
      [m.plan.draftedBy, plan.draftedBy],
      [m.plan.draftedAt, formatInstant(plan.draftedAt, lang)],
      [m.plan.submittedBy, plan.submittedBy ?? asSubmitted?.submission.submittedBy ?? m.plan.notSubmitted],
      [m.plan.submittedAt, formatInstant(plan.submittedAt ?? asSubmitted?.submission.submittedAt, lang) || null],
      [m.plan.criteriaAtSubmission, submittedUnder ? fill(m.plan.criteriaValue, { number: submittedUnder.number, acceptance: submittedUnder.acceptanceLevel }) : null],
      [m.plan.criteria, criteria ? fill(m.plan.criteriaValue, { number: criteria.number, acceptance: criteria.definition.acceptanceLevel }) : null],
      [m.plan.content, asSubmitted ? fill(m.plan.contentAsSubmitted, { revision: asSubmitted.submission.revision, at: formatInstant(asSubmitted.submission.submittedAt, lang) }) : m.plan.contentDraft],
    ),
    summary: items.map((item, i) => {
      const risk = states.get(item.riskId);
      return {
        no: i + 1,
        title: risk?.title ?? item.riskTitle,
        owner: risk?.ownerId ?? item.ownerId,
        level: risk?.level ?? risk?.evaluation?.level ?? none,
        treatment: options(risk),
        residual: residualOf(item, risk, m),
        controlCount: risk?.controls.length ?? 0,
        consent: consentOf(item),
      };
    }),
    risks: sections,
    resolutions: plan.resolutions.map((r) => resolutionRows(r, r.id ? data.evidenceOf(r.id) : [], lang, m)),
    revisions: plan.revisions.map((r) => revisionView(r, lang, m)),
    consentsAsked,
    consents: [
      ...plan.items.map((item) => consentView(item, nowStates.get(item.riskId), lang, m, inForce, plan.status === 'CLOSED')),
      ...(asSubmitted ? removedAnswers(asSubmitted.submission, current, nowStates, lang, m) : []),
    ],
    source: sourceView(data.head, m, lang, `/documents/plans/${encodeURIComponent(plan.id)}.${format}`),
  };
}

/**
 * One risk's section: its content from `risk` (as submitted, or as it stands), and from `now` the
 * marker since the submission, the risk's status and the item's consent at the document's point.
 */
function riskSection(no: number, item: ContentItem, risk: RiskState | undefined, data: DocumentData, lang: Language, m: Messages, now: { note?: string; status?: string; consent: string }): PlanRiskSection {
  const none = m.common.none;
  const assets = (risk?.assetIds ?? []).map((id) => data.assetLabel(id)).filter((a): a is AssetLabel => a !== null);
  const { threat, vulnerability } = risk ? data.threatNames(risk.threatAssetId, risk.threatId, risk.vulnerabilityId) : {};
  const level = risk?.level ?? risk?.evaluation?.level;
  const t = risk?.treatment;
  return {
    no,
    title: risk?.title ?? item.riskTitle,
    rows: rows(
      [m.plan.riskId, item.riskId],
      [m.plan.riskStatus, now.status ?? risk?.status ? labelOf(m.enums.riskStatus, now.status ?? risk?.status, none) : null],
      [m.plan.owner, risk?.ownerId ?? item.ownerId],
      [m.plan.description, risk?.description],
      [m.plan.assets, assets.map((a) => `${assetLabel(a, a.id, lang, m)} (${a.id})`).join(m.common.listSeparator) || risk?.assetIds.join(m.common.listSeparator)],
      [m.plan.threat, threat],
      [m.plan.vulnerability, vulnerability],
      [m.plan.analysis, level ? fill(m.plan.analysisValue, { level, likelihood: risk?.likelihood ?? risk?.evaluation?.likelihood ?? none, impact: risk?.impact ?? risk?.evaluation?.impact ?? none, criteria: risk?.criteriaNumber ?? risk?.evaluation?.criteriaNumber ?? none }) : null],
      [m.plan.analysisMethods, risk ? analysisMethods(risk, m) : null],
      [m.plan.evaluation, risk?.evaluation ? labelOf(m.enums.evaluation, risk.evaluation.decision, none) : null],
      [m.plan.sinceSubmission, now.note],
    ),
    treatment: t
      ? rows(
          [m.plan.options, t.options.map((o) => labelOf(m.enums.treatmentOption, o, none)).join(m.common.listSeparator)],
          [m.plan.rationale, t.rationale],
          [m.plan.target, fill(m.plan.targetValue, { level: t.targetLevel, likelihood: t.targetLikelihood, impact: t.targetImpact })],
          [m.plan.counterparty, t.counterparty],
          [m.plan.contract, t.contractReference],
        )
      : [],
    controls: (risk?.controls ?? []).map((c) => controlView(c, lang)),
    residual: rows([m.plan.residualLevel, residualOf(item, risk, m)], [m.plan.consentStatus, now.consent]),
  };
}

/**
 * The methods of the current cycle's analyses under the criteria of its level (Art.15(2): the
 * board sees how the level was reached), and the expert when an informal judgement gave it.
 */
function analysisMethods(risk: RiskState, m: Messages): string | null {
  const analyses = risk.criteriaId === undefined ? undefined : cycleAnalysesUnder(risk, risk.criteriaId);
  if (!analyses) return null;
  const methods = analyses.methods.map((method) => labelOf(m.enums.method, method, m.common.none)).join(m.common.listSeparator);
  const expert = analyses.top.informal?.expert;
  return expert ? `${methods}${m.common.listSeparator}${fill(m.plan.levelByExpert, { expert })}` : methods;
}

/** A control as the plan and the controls record show it (owner, due day in the document's language, reason, reference). */
export function controlView(c: RiskState['controls'][number], lang: Language): ControlView {
  return { title: c.title, description: c.description, owner: c.ownerId, due: formatDay(c.dueDate, lang), reason: c.reason, reference: c.reference ?? '' };
}

/** The residual level the owner is asked to accept: fixed at submission; before it (a draft) the treatment's target, said to be one. */
function residualOf(item: ContentItem, risk: RiskState | undefined, m: Messages): string {
  if (item.residualLevel) return item.residualLevel;
  const target = risk?.treatment?.targetLevel;
  return target ? fill(m.plan.residualUntilSubmitted, { level: target }) : m.common.none;
}

/** Titles a revision's row names: a plan of 2,000 risks lists them in its sections, not in one cell. */
const REVISION_TITLES = 10;

/**
 * A revision's risks: their count and titles, so that a rejected or withdrawn revision says which
 * risks the board saw (compliance probe of 2026-12-05, F8: a count alone, the risks seen only by
 * rendering the document at the resolution's position).
 */
function revisionRisks(r: PlanRevisionRecord, m: Messages): string {
  const titles = r.items.slice(0, REVISION_TITLES).map((i) => i.riskTitle);
  const more = r.items.length - titles.length;
  if (!titles.length) return '0';
  return `${r.items.length} (${titles.join(m.common.listSeparator)}${more > 0 ? fill(m.plan.moreRisks, { count: more }) : ''})`;
}

function revisionView(r: PlanRevisionRecord, lang: Language, m: Messages): RevisionView {
  const none = m.common.none;
  const atBy = (at: string | undefined, by: string | undefined) => (at ? (by ? fill(m.plan.atBy, { at: formatInstant(at, lang), by }) : formatInstant(at, lang)) : none);
  const withdrawn = r.outcome === 'WITHDRAWN';
  return {
    revision: r.revision,
    risks: revisionRisks(r, m),
    submitted: atBy(r.submittedAt, r.submittedBy),
    outcome: labelOf(m.enums.revisionOutcome, r.outcome, none),
    ended: withdrawn ? atBy(r.withdrawnAt, r.withdrawnBy) : atBy(r.decidedAt, undefined),
    note: (withdrawn ? r.withdrawalReason : r.resolutionNumber) || none,
  };
}

/** A resolution's record, with the files attached to it by the document's point (the signed minutes: name, SHA-256, who attached them and when). */
function resolutionRows(r: BoardResolution, evidence: readonly EvidenceRow[], lang: Language, m: Messages): Row[] {
  return rows(
    [m.plan.resolutionNumber, r.resolutionNumber],
    [m.plan.meetingDate, formatDay(r.meetingDate, lang)],
    [m.plan.decision, labelOf(m.enums.decision, r.decision, m.common.none)],
    [m.plan.forRevision, fill(m.plan.revisionValue, { revision: r.revision })],
    [m.plan.minutes, r.minutesReference],
    [m.plan.notes, r.notes],
    [m.plan.recordedBy, r.recordedBy],
    [m.plan.recordedAt, formatInstant(r.recordedAt, lang)],
    [m.plan.resolutionPosition, r.position],
    [m.plan.resolutionEvidence, evidence.map((e) => fill(m.plan.evidenceFile, { id: e.id, filename: e.filename, description: e.description, sha256: e.sha256, by: e.attachedBy, at: formatInstant(e.attachedAt, lang) })).join(m.plan.evidenceSeparator)],
  );
}

/**
 * The answers of the items removed since the submission (a declined, reopened or avoided risk's),
 * as they stood at the removal, after the current ones: who declined, when and why stays in the
 * table the board and the auditors read, not only in the plan's history.
 */
function removedAnswers(submission: PlanSubmission, current: ReadonlyMap<string, PlanItem>, nowStates: ReadonlyMap<string, RiskState>, lang: Language, m: Messages): ConsentView[] {
  const out: ConsentView[] = [];
  for (const { riskId } of submission.items) {
    const removal = submission.removed.get(riskId);
    if (current.has(riskId) || !removal?.item) continue;
    // No re-evaluation note: the plan no longer asks this owner anything.
    const answer = consentView(removal.item, nowStates.get(riskId), lang, m, undefined);
    const note = fill(m.plan.removedSinceSubmission, { at: formatInstant(removal.removedAt, lang), reason: removal.reason });
    out.push({ ...answer, status: fill(m.plan.removedConsent, { status: answer.status }), statement: [answer.statement, note].filter((s) => s).join(' — ') });
  }
  return out;
}

/** An item's consent as the document names it. A closed plan asks nothing again (re-probe F5): a consent stale when it closed is said to be so, not "to be given again". */
function consentLabel(consent: PlanItem['consent'], planClosed: boolean, m: Messages): string {
  return planClosed && consent === 'STALE' ? m.plan.staleAtClose : labelOf(m.enums.consent, consent, m.common.none);
}

function consentView(item: PlanItem, risk: RiskState | undefined, lang: Language, m: Messages, inForce: CriteriaInForceView | undefined, planClosed = false): ConsentView {
  const record = item.consentRecord;
  const declined = item.consent === 'DECLINED';
  // An acceptance made stale by a new owner was the former owner's: said so, never credited to the one asked now.
  const formerOwners = item.consent === 'STALE' && record !== undefined && record.ownerId !== item.ownerId;
  const level = !declined && record ? (record.residualLevel ?? m.common.none) : item.consent === 'PENDING' ? (item.residualLevel ?? m.common.none) : m.common.none;
  const accepted = formerOwners ? fill(m.plan.givenBy, { level, owner: record.ownerId }) : item.consent === 'PENDING' ? m.common.none : level;
  // An acceptance (or a request) the criteria in force no longer meet (compliance probe #3): the
  // plan stays in force by the contract's rule, and the table says what needsReevaluation says.
  const aboveCriteria = (item.consent === 'ACCEPTED' || item.consent === 'PENDING') && level !== m.common.none && risk && inForce && needsReevaluation(risk, inForce);
  const closed = item.riskClosedAt ? fill(m.plan.riskClosedStatement, { at: formatInstant(item.riskClosedAt, lang) }) : undefined;
  const said = declined ? item.declineReason : item.consent === 'STALE' ? (item.staleReason && labelOf(m.enums.staleReason, item.staleReason, '')) : closed ? undefined : record?.statement;
  return {
    risk: risk?.title ?? item.riskTitle,
    // Who answered, when the answer stands; else who is to answer (the risk's owner now).
    owner: declined ? (item.declinedBy ?? item.ownerId) : item.consent === 'ACCEPTED' && record ? record.ownerId : item.ownerId,
    status: consentLabel(item.consent, planClosed, m),
    acceptedLevel: !aboveCriteria
      ? accepted
      : analysisBeyondScales(risk, inForce)
        ? fill(m.plan.acceptedBeyondScales, { level, number: inForce.number, likelihood: String(risk.likelihood), impact: String(risk.impact) })
        : fill(m.plan.acceptedAboveCriteria, { level, number: inForce.number, now: residualLevelUnder(risk, inForce) ?? m.common.none, acceptance: inForce.acceptanceLevel }),
    answeredAt: formatInstant(declined ? item.declinedAt : record?.acceptedAt, lang) || m.common.none,
    // What was said (a decline's reason, why the consent went stale, the statement), and that the risk was avoided since.
    statement: [said, closed].filter((s) => s).join(' '),
    explained: (item.explanations ?? []).map((e) => explanationText(e, item, lang, m)).join(m.plan.explanationSeparator) || m.common.none,
  };
}

/**
 * One explanation: the day given (as the caller states it), and when it was recorded, marked when
 * that was after the answer of the owner it was given to (auditor probe of 2026-12-06, F2: one
 * entered after the acceptance read as given before it, the day being the caller's to state).
 */
function explanationText(e: ConsentExplanation, item: PlanItem, lang: Language, m: Messages): string {
  const record = item.consentRecord;
  const answered = item.consent === 'DECLINED' ? ((item.declinedBy ?? item.ownerId) === e.ownerId ? item.declinedAt : undefined) : record?.ownerId === e.ownerId ? record.acceptedAt : undefined;
  const after = answered !== undefined && e.recordedAt > answered ? fill(m.plan.explanationAfterAnswer, { answeredAt: formatInstant(answered, lang) }) : '';
  return fill(m.plan.explanation, { on: formatDay(e.explainedOn, lang), by: e.explainedBy, owner: e.ownerId, revision: String(e.planRevision), riskVersion: String(e.riskVersion), recordedAt: formatInstant(e.recordedAt, lang), after, summary: e.summary });
}
