import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config.js';
import { EVENT_STORE, type EventStore } from '../../event-store/event-store.port.js';
import { controlsDocument, type ControlsDocumentEntry } from '../../risk-register/application/controls-document.js';
import { LOG_START, type PointInTime } from '../../shared/application/point-in-time.js';
import { NotFoundError, QueryTooComplexError } from '../../shared/domain/errors.js';
import { messagesFor, type Language } from '../messages/index.js';
import { registerCsv } from '../render/csv.js';
import { encodeInTurns } from '../render/encode-in-turns.js';
import { compileAllTemplates, htmlTemplate, markdownTemplate, renderedInSlices } from '../render/handlebars.js';
import { registerXlsx } from '../render/xlsx.js';
import { CONTROLS_MARKDOWN } from '../templates/controls.md.js';
import { PLAN_HTML } from '../templates/plan.html.js';
import { PLAN_MARKDOWN } from '../templates/plan.md.js';
import { controlsDocumentFrame, controlsEntryView, type ControlsDocumentTemplateView, type ControlsRecord } from './controls-document-view.js';
import type { DocumentRequest } from './document-request.js';
import { DocumentSource, documentInstant } from './document-source.js';
import { DocumentBudget, DocumentTooLargeError } from './document-size.js';
import { planDocument, sectionRowsWeight, type PlanDocumentView, type PlanRiskSection } from './plan-document.js';
import { planSubmissionAt } from './plan-submission.js';
import { registerExport, type RegisterSection } from './register-export.js';

/** A plan's risk sections rendered per turn of the event loop. */
const SECTIONS_PER_TURN = 100;
/** About the characters a risk's section renders to: its controls' texts are what may be megabytes. */
const sectionWeight = (section: unknown): number =>
  (section as PlanRiskSection).controls.reduce((n, c) => n + c.title.length + c.description.length + c.reason.length + c.reference.length, sectionRowsWeight(section as PlanRiskSection));
const planMarkdown = renderedInSlices<PlanDocumentView>(PLAN_MARKDOWN, 'risks', markdownTemplate, SECTIONS_PER_TURN, undefined, sectionWeight);
const planHtml = renderedInSlices<PlanDocumentView>(PLAN_HTML, 'risks', htmlTemplate, SECTIONS_PER_TURN, undefined, sectionWeight);

/** Risks' entries turned into views and rendered per turn of the event loop. */
const ENTRIES_PER_TURN = 200;
const controlsSliced = renderedInSlices<ControlsDocumentTemplateView>(
  CONTROLS_MARKDOWN,
  'entries',
  markdownTemplate,
  ENTRIES_PER_TURN,
  (slice, view) => (slice as ControlsDocumentEntry[]).map((e) => controlsEntryView(e, view.lang, view.m)),
  (entry) => [...(entry as ControlsDocumentEntry).controls, ...((entry as ControlsDocumentEntry).supersededControls ?? [])].reduce((n, c) => n + c.title.length + c.description.length + c.reason.length + (c.reference?.length ?? 0) + (c.progressNote?.length ?? 0), 200),
);

/**
 * The controls document (CONTROLS_MARKDOWN) around `frame`, its entries turned into views and
 * rendered a slice per turn of the event loop: the same text as the whole template in one call,
 * which held every other request ~0.3 s for a register of 3,828 risks (soak probe p9).
 */
export function controlsMarkdown(frame: ControlsDocumentTemplateView, entries: readonly ControlsDocumentEntry[], budget?: DocumentBudget): Promise<string[]> {
  return controlsSliced({ ...frame, entries: entries as unknown as ControlsDocumentTemplateView['entries'] }, budget);
}

/** A rendered document and the log position it was rendered from (LOG_START: the start of the log, no event by then). */
export interface RenderedDocument {
  /** Its bytes, in parts (written one after another; a document of tens of MB is never copied into one buffer). */
  body: Buffer[];
  position: string;
  /** The request that renders the same bytes again (relative URL), where the document has one. */
  regenerateUrl?: string | null;
}

/**
 * Renders the documents (plan, register, controls) from the read models at the requested point
 * of the log. The view is built while the replay is held; the bytes are written after.
 */
@Injectable()
export class DocumentsService implements OnApplicationBootstrap {
  constructor(
    private readonly source: DocumentSource,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(APP_CONFIG) private readonly config: Pick<AppConfig, 'documentMaxBytes'>,
  ) {}

  /** Before the server listens: compiled at the first document, the templates held other requests ~100 ms. */
  onApplicationBootstrap(): void {
    compileAllTemplates();
  }

  /** A budget of DOCUMENT_MAX_BYTES for one render; `narrower` is what the refusal suggests instead. */
  private budget(narrower: string): DocumentBudget {
    return new DocumentBudget(this.config.documentMaxBytes, narrower);
  }

  async plan(id: string, format: 'md' | 'html', request: DocumentRequest): Promise<RenderedDocument> {
    const m = messagesFor(request.lang);
    const budget = this.budget('Its risks are in the register, one section at a time (GET /documents/register.csv?section=)');
    const view = await this.source.read(request.point, async (data) => {
      const plan = data.plan(id);
      if (!plan) throw new NotFoundError('Plan', id);
      // A submitted revision's risks are shown as submitted: from the read models at that commit.
      const submission = await planSubmissionAt(this.store, plan, data.head);
      if (!submission) return planDocument(plan, data, request.lang, m, format, null, budget);
      return this.source.read({ atPosition: submission.position }, (asSubmitted) => planDocument(plan, data, request.lang, m, format, { submission, data: asSubmitted }, budget));
    });
    budget.restart();
    const text = await (format === 'md' ? planMarkdown : planHtml)(view, budget);
    budget.restart();
    return { body: await encodeInTurns(text, budget), position: view.source.position };
  }

  async controls(riskId: string | null, request: DocumentRequest): Promise<RenderedDocument> {
    const record = await this.controlsRecord(riskId, request.point);
    const frame = controlsDocumentFrame(record.view.entries, request.lang, messagesFor(request.lang), { head: record.head, riskId });
    const budget = this.budget('Ask for one risk\'s record at a time (?riskId=)');
    const text = await controlsMarkdown(frame, record.view.entries, budget);
    budget.restart();
    return { body: await encodeInTurns(text, budget), position: record.head?.position ?? LOG_START };
  }

  /**
   * The Art.18(2) record at a point of the log (its head when none), and the event it ends with:
   * what GET /documents/controls.md renders and GraphQL's controlsDocument returns, read once
   * here for both. Its content is judged (a control overdue) at its last event's instant, not
   * the clock's: the same position gives the same record.
   */
  async controlsRecord(riskId: string | null, point: PointInTime | null): Promise<ControlsRecord> {
    return this.source.read(point, async (data) => {
      const states = riskId ? [data.riskState(riskId)].filter((s) => s !== null) : await data.riskStates();
      if (riskId && states.length === 0) throw new NotFoundError('Risk', riskId);
      return { view: await controlsDocument(states, documentInstant(data), data.closedCycles(), data.superseded()), head: data.head, riskId };
    });
  }

  /**
   * GraphQL's controlsDocument.markdown: the same template on the record the query read, with the
   * same source block as GET /documents/controls.md (the point of the log and the request that
   * renders the same document again), bounded by DOCUMENT_MAX_BYTES as the download is (its
   * characters as rendered, then its UTF-8 bytes). Past it the render stops and the text is refused
   * whole with QUERY_TOO_COMPLEX (limit: DOCUMENT_MAX_BYTES), GraphQL's refusal of an answer too
   * large, where the download answers 413 DOCUMENT_TOO_LARGE: rendered with no bound, a record the
   * download refused was answered in full (~1 MB against a 64 KiB bound; review of 2026-12-07, M6).
   */
  async controlsMarkdown(record: ControlsRecord, lang: Language): Promise<string> {
    const frame = controlsDocumentFrame(record.view.entries, lang, messagesFor(lang), { head: record.head, riskId: record.riskId });
    const budget = this.budget("Ask for one risk's record at a time (controlsDocument(riskId))");
    try {
      const parts = await controlsMarkdown(frame, record.view.entries, budget);
      budget.restart();
      for (const part of parts) budget.add(Buffer.byteLength(part, 'utf8'));
      return parts.join('');
    } catch (error) {
      if (error instanceof DocumentTooLargeError) throw new QueryTooComplexError(error.reached, error.maxBytes, error.message);
      throw error;
    }
  }

  async registerCsv(section: RegisterSection, request: DocumentRequest): Promise<RenderedDocument> {
    const m = messagesFor(request.lang);
    const budget = this.budget(section === 'risks' ? 'Its rows name every asset of every risk; the inventory is its own section (?section=assets)' : 'This section has no narrower request');
    const view = await this.source.read(request.point, (data) => registerExport(data, request.lang, m, 'csv', section, budget));
    budget.restart();
    return { body: await registerCsv(view.tables[0]!, request.lang, budget), position: view.source.position, regenerateUrl: view.source.regenerateUrl };
  }

  async registerXlsx(request: DocumentRequest): Promise<RenderedDocument> {
    const m = messagesFor(request.lang);
    // Charged the text of its cells, every sheet together: the zip is smaller than what its render costs.
    const budget = this.budget('Download the register one section at a time (GET /documents/register.csv?section=)');
    const view = await this.source.read(request.point, (data) => registerExport(data, request.lang, m, 'xlsx', undefined, budget));
    return { body: [await registerXlsx(view)], position: view.source.position };
  }
}
