import { Inject, Injectable } from '@nestjs/common';
import { AssetRegisterQueries, type AssetLabel } from '../../asset-inventory/projections/asset-register.projection.js';
import type { AssetState } from '../../asset-inventory/domain/asset.state.js';
import { EVENT_STORE, type EventStore } from '../../event-store/event-store.port.js';
import { AsOfReplayer, type ReplayHead } from '../../projections/as-of-replay.js';
import { READ_DB, type ReadDb } from '../../projections/read-model-database.js';
import { ProjectionRunner } from '../../projections/projection-runner.js';
import { registerListsAt } from '../../risk-register/application/risk-queries.js';
import type { PointInTime } from '../../shared/application/point-in-time.js';
import { eachPageInTurns, pagesInTurns } from '../../shared/application/turns.js';
import type { RiskState } from '../../risk-register/domain/risk.state.js';
import { RiskRegisterQueries, type CriteriaInForceRow, type RiskRow } from '../../risk-register/projections/risk-register.projection.js';
import { PlanQueries } from '../../treatment-plan/projections/plan.projection.js';
import type { PlanState } from '../../treatment-plan/domain/plan.state.js';
import type { ClosedCycle } from '../../risk-register/projections/closed-cycles.js';
import type { Supersession } from '../../risk-register/projections/superseded.js';
import { EvidenceReadModel, type EvidenceRow } from '../../evidence/projections/evidence.projection.js';
import { CriteriaQueries } from '../../risk-criteria/projections/criteria.projection.js';
import type { CriteriaVersionState } from '../../risk-criteria/domain/criteria.state.js';
import { AggregateReader } from '../../shared/application/aggregate-reader.js';
import { contextDecider } from '../../context/domain/context.decider.js';
import { CONTEXT_STREAM, type ContextVersion } from '../../context/domain/context.state.js';

/** What a document is rendered from: the read models at one point of the log, and that point. */
export interface DocumentData {
  /** The last event the read models contain (null: none by then, the start of the log). */
  head: ReplayHead | null;
  criteria: CriteriaInForceRow | undefined;
  /**
   * Every risk, in register order, a page at a time (a page per turn of the event loop): `each` is
   * given each page, and only that page is held (a register's risks of megabytes each were all held
   * for a section of a few rows: hostile re-probe of 2026-12-07, E).
   */
  eachRiskPage(each: (page: RiskRow[]) => void | Promise<void>): Promise<void>;
  /** Every risk's state alone, in register order (parsed a slice per turn of the event loop). */
  riskStates(): Promise<readonly RiskState[]>;
  /** One risk's state (without the register's ranks and lists, which a document of its items does not show). */
  riskState(id: string): RiskState | null;
  plan(id: string): PlanState | null;
  /** What a document names an asset by (read once per render: a register's risks name the same assets again and again). */
  assetLabel(id: string): AssetLabel | null;
  /** The names of a risk's threat and vulnerability on their asset. */
  threatNames(assetId: string, threatId: string, vulnerabilityId: string | undefined): { threat?: string; vulnerability?: string };
  /** Every asset of the inventory, retired ones too, in registration order (read a page per turn of the event loop). */
  assets(): Promise<AssetState[]>;
  /** Every risk criteria version recorded by this point, as it stood, newest first. */
  criteriaVersions(): CriteriaVersionState[];
  /** Every version of the organisation's context (Art.12(1)) recorded by this point, oldest first (its one stream folded up to the head). */
  contextVersions(): Promise<ContextVersion[]>;
  /** Every risk's cycles closed by a review by this point, oldest first (their treatment and controls as they stood then). */
  closedCycles(): Map<string, ClosedCycle[]>;
  /** Every risk's controls and treatments a later decision of their cycle superseded by this point, oldest decision first. */
  superseded(): Map<string, Supersession[]>;
  /** The evidence files attached to an entity by this point (a board resolution's signed minutes), in the order attached. */
  evidenceOf(entityId: string): EvidenceRow[];
  /** The replayed read models themselves (for a section whose queries live elsewhere). */
  db: ReadDb;
}

/**
 * The instant a document judges what passes with time at (a control overdue): its head's, not
 * the clock's, so that the same position gives the same document.
 */
export function documentInstant(data: DocumentData): string {
  return data.head?.recordedAt ?? new Date(0).toISOString();
}

/**
 * Risks read per turn of the event loop: documents need all of them, and a register of 3,828
 * read in one go held every other request ~0.3 s (soak probe p9).
 */
const RISKS_PAGE = 250;
/** And a page ends once its risks hold 2 M characters (risks of megabytes each: hostile probe F2). */
const RISKS_PAGE_CHARS = 2_000_000;

/**
 * Reads the read models for a document at the point asked for, or at the head of the log when
 * none is: always through a replay (AsOfReplayer), so that a document names the exact event its
 * content ends with, and rendering again at that position gives the same bytes. The live read
 * models are read only for the replay's history tables (a risk's analyses and reviews), cut at
 * its head once the live projections have applied it; otherwise they may be a step behind or
 * ahead of any head named.
 */
@Injectable()
export class DocumentSource {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly replayer: AsOfReplayer,
    @Inject(READ_DB) private readonly live: ReadDb,
    private readonly projections: ProjectionRunner,
    private readonly aggregates: AggregateReader,
  ) {}

  async read<T>(point: PointInTime | null, render: (data: DocumentData) => T | Promise<T>): Promise<T> {
    const at = point ?? { atPosition: (await this.store.headPosition()) ?? '0' };
    return this.replayer.readWithHead(at, async (db, head) => {
      const register = new RiskRegisterQueries(db, { lists: await registerListsAt(this.live, this.projections, head) });
      const plans = new PlanQueries(db);
      const assets = new AssetRegisterQueries(db);
      const labels = new Map<string, AssetLabel | null>();
      const evidence = new EvidenceReadModel(db);
      return render({
        head,
        criteria: register.criteriaInForce(),
        eachRiskPage: (each) =>
          eachPageInTurns(
            RISKS_PAGE,
            (after, limit) => {
              const { rows, cut } = register.page({}, after, limit, undefined, Infinity, RISKS_PAGE_CHARS);
              return { items: rows, last: rows.at(-1)?.sortKey ?? null, cut };
            },
            each,
          ),
        riskStates: () => register.allStates(),
        riskState: (id) => register.stateOf(id),
        plan: (id) => plans.byId(id),
        // Each asset's label read once per render: a register's or a plan's risks naming the same 500
        // assets read each again from the read model (hostile probe of 2026-12-07, Finding 1); and
        // only its label (review M2: the whole asset, threats and all, read and kept for its name).
        assetLabel: (id) => (labels.has(id) ? labels.get(id)! : (labels.set(id, assets.label(id)), labels.get(id)!)),
        threatNames: (assetId, threatId, vulnerabilityId) => assets.threatNames(assetId, threatId, vulnerabilityId),
        assets: () =>
          pagesInTurns(RISKS_PAGE, (after, limit) => {
            const { rows } = assets.page({ afterSeq: after === null ? null : Number(after), limit });
            return { items: rows.map((r) => r.state), last: rows.length ? String(rows[rows.length - 1]!.seq) : null };
          }),
        criteriaVersions: () => new CriteriaQueries(db).all(),
        contextVersions: async () => (head ? (await this.aggregates.stateAt(CONTEXT_STREAM, contextDecider, { atPosition: head.position })).versions : []),
        closedCycles: () => register.closedCyclesByRisk(),
        superseded: () => register.supersededByRisk(),
        evidenceOf: (id) => evidence.evidenceOf(id),
        db,
      });
    });
  }
}
