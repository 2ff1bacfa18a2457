/**
 * The Art.18(2) record of controls and the reasons for their adoption, as a view for the
 * Markdown template: labels and dates resolved in the requested language, the SHARE
 * counterparty and contract beside the treatment. Built from the risk register's entries
 * (risk-register/application/controls-document.ts), so GraphQL's `controlsDocument.markdown` and
 * GET /documents/controls.md are the same rendering.
 */
import type { ReplayHead } from '../../projections/as-of-replay.js';
import { riskCountOf, type ControlsDocumentEntry, type ControlsDocumentView, type SupersededMark } from '../../risk-register/application/controls-document.js';
import { LOG_START } from '../../shared/application/point-in-time.js';
import { formatInstant } from '../render/dates.js';
import { fill, labelOf, type Language, type Messages } from '../messages/index.js';
import { rows, sourceView, type Row, type SourceView } from './document-view.js';
import { controlView, type ControlView } from './plan-document.js';

export interface ControlsEntryView {
  title: string;
  rows: Row[];
  controls: ControlView[];
  /** What later decisions of the cycle superseded (shown after the current ones, each marked with that decision); null when nothing. */
  superseded: { treatments: Row[]; controls: (ControlView & { evidence: string; supersededMark: string })[] } | null;
}

export interface ControlsDocumentTemplateView {
  lang: Language;
  m: Messages;
  title: string;
  basis: string;
  entries: ControlsEntryView[];
  /** The point of the log it was rendered from (GET /documents/controls.md and GraphQL's controlsDocument.markdown alike); null only when rendered without one. */
  source: SourceView | null;
}

/** The document around its entries: title, basis and source (entries: see controlsEntryView). */
export function controlsDocumentFrame(entries: readonly ControlsDocumentEntry[], lang: Language, m: Messages, at: { head: ReplayHead | null; riskId: string | null } | null): ControlsDocumentTemplateView {
  const controlCount = entries.reduce((n, e) => n + e.controls.length, 0);
  return {
    lang,
    m,
    title: m.controls.title,
    basis: fill(m.controls.basis, { risks: riskCountOf(entries), controls: controlCount }),
    entries: [],
    source: at ? sourceView(at.head, m, lang, '/documents/controls.md', at.riskId ? `&riskId=${encodeURIComponent(at.riskId)}` : '') : null,
  };
}

/** The Art.18(2) record read at a point of the log, with what its source block cites. */
export interface ControlsRecord {
  view: ControlsDocumentView;
  /** The last event the record contains (null: none by then, the start of the log). */
  head: ReplayHead | null;
  /** The one risk asked for (null: every risk), for the request that regenerates it. */
  riskId: string | null;
}

/**
 * GraphQL's ControlsDocument: the record's content, when it was answered (`generatedAt`, the
 * clock), and the point of the log it reflects, as the source block of GET /documents/controls.md
 * (and of `markdown`) cites it and its X-Log-Position header gives it: LOG_START (position 0) when
 * no event was by then, the head fields null.
 */
export interface ControlsDocumentAnswer extends ControlsDocumentView {
  logPosition: string | null;
  logRecordedAt: string | null;
  chainHash: string | null;
  eventHash: string | null;
  /** What `markdown` renders, source block included. */
  record: ControlsRecord;
}

export function controlsDocumentAnswer(record: ControlsRecord, now: Date): ControlsDocumentAnswer {
  const { head } = record;
  return {
    ...record.view,
    generatedAt: now.toISOString(),
    logPosition: head?.position ?? LOG_START,
    logRecordedAt: head?.recordedAt ?? null,
    chainHash: head?.chainHash ?? null,
    eventHash: head?.hash ?? null,
    record,
  };
}

/** One risk's entry as the template shows it, labels and dates in the document's language. */
export function controlsEntryView(e: ControlsDocumentEntry, lang: Language, m: Messages): ControlsEntryView {
  const none = m.common.none;
  return {
    title: e.closedAt ? fill(m.controls.closedCycleTitle, { title: e.riskTitle, cycle: e.cycle }) : e.riskTitle,
    rows: rows(
      [m.controls.riskId, e.riskId],
      [m.controls.cycle, e.closedAt ? fill(m.controls.cycleClosed, { cycle: e.cycle, at: formatInstant(e.closedAt, lang), review: e.closedByReviewId }) : fill(m.controls.cycleCurrent, { cycle: e.cycle })],
      [m.controls.status, labelOf(m.enums.riskStatus, e.riskStatus, none)],
      [m.controls.owner, e.ownerId],
      [m.controls.level, e.level ?? none],
      [m.controls.target, e.targetLevel ?? none],
      [m.controls.treatment, [e.treatmentOptions.map((o) => labelOf(m.enums.treatmentOption, o, none)).join(m.common.listSeparator) || none, e.treatmentRationale].filter(Boolean).join(' — ')],
      [m.controls.counterparty, e.counterparty],
      [m.controls.contract, e.contractReference],
    ),
    // Where each control stands (Art.18(2) record, compliance probe 2 #7: an avoided risk's cancelled controls read as pending work).
    controls: e.controls.map((c) => ({
      ...controlView(c, lang),
      status: [labelOf(m.enums.controlStatus, c.status, none), c.status === 'CANCELLED' ? c.progressNote : c.overdue ? m.register.columns.overdue : null].filter(Boolean).join(' — '),
    })),
    superseded: supersededView(e, lang, m),
  };
}

/** An entry's superseded treatments and controls, each marked with the decision that superseded it (Art.18(2): kept). */
function supersededView(e: ControlsDocumentEntry, lang: Language, m: Messages): ControlsEntryView['superseded'] {
  const treatments = e.supersededTreatments ?? [];
  const controls = e.supersededControls ?? [];
  if (treatments.length === 0 && controls.length === 0) return null;
  const none = m.common.none;
  const markOf = (s: SupersededMark) => fill(m.controls.supersededMark, { at: formatInstant(s.supersededAt, lang), revision: s.supersededRevision, by: s.supersededBy });
  return {
    treatments: treatments.map((t) => ({
      label: m.controls.supersededTreatment,
      value: fill(m.controls.supersededTreatmentValue, {
        treatment: [t.options.map((o) => labelOf(m.enums.treatmentOption, o, none)).join(m.common.listSeparator), t.rationale, t.counterparty, t.contractReference].filter(Boolean).join(' — '),
        target: t.targetLevel,
        decidedAt: formatInstant(t.decidedAt, lang),
        decidedBy: t.decidedBy,
        mark: markOf(t),
      }),
    })),
    controls: controls.map((c) => ({
      ...controlView(c, lang),
      status: [labelOf(m.enums.controlStatus, c.status, none), c.progressNote].filter(Boolean).join(' — '),
      evidence: c.evidence.map((x) => `${x.evidenceId} (SHA-256 ${x.sha256})`).join(m.common.listSeparator) || none,
      supersededMark: markOf(c),
    })),
  };
}
