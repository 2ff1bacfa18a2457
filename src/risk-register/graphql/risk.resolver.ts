import { Args, ID, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { StrictDateTime } from '../../graphql/scalars.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { decodeCursor, encodeCursor, pageSize, toConnection } from '../../graphql/pagination.js';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { pointInTime } from '../../shared/application/point-in-time.js';
import {
  AnalyseRiskCommand,
  DecideControlsCommand,
  DecideTreatmentCommand,
  EvaluateRiskCommand,
  IdentifyRiskCommand,
  ReassignRiskOwnerCommand,
  RecordReviewCommand,
} from '../application/risk-commands.js';
import { ControlsDocumentQuery, GetRiskQuery, HeatMapQuery, ListRisksQuery, ReviewsDueQuery } from '../application/risk-queries.js';
import type { RiskRow } from '../projections/risk-register.projection.js';
import {
  AnalyseRiskInput,
  ControlsDocument,
  ReviewDue,
  DecideControlsInput,
  DecideTreatmentInput,
  HeatMap,
  IdentifyRiskInput,
  ReassignRiskOwnerInput,
  RecordReviewInput,
  Risk,
  RiskConnection,
  RiskFilter,
  RiskRefInput,
} from './risk.types.js';

const CURSOR_TAG = 'risk';

/** The GraphQL view of a risk: the aggregate's state plus what the register computes (priority, flags). */
export function toRiskView(row: RiskRow) {
  const s = row.state;
  return {
    ...s,
    priority: row.priority,
    needsReevaluation: row.needsReevaluation,
    assetsRetired: row.assetsRetired,
    analyses: s.analyses.map((a) => ({ ...a, id: a.analysisId })),
    controls: s.controls.map((c) => ({ ...c, id: c.controlId })),
    reviews: s.reviews.map((r) => ({ ...r, id: r.reviewId })),
  };
}

/** Thin adapter: arguments to commands and queries. */
@Resolver(() => Risk)
export class RiskResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Query(() => Risk, { nullable: true, description: 'One risk; with asOf, as it stood at that instant (rebuilt from the log).' })
  async risk(
    @Args('id', { type: () => ID }) id: string,
    @Args('asOf', { type: () => StrictDateTime, nullable: true }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: 'Alternative to asOf: the state right after this log position.' }) atPosition?: string | null,
  ) {
    const row = await this.queries.execute(new GetRiskQuery(id, pointInTime(asOf, atPosition)));
    return row ? toRiskView(row) : null;
  }

  @Query(() => RiskConnection, { description: 'The register by priority: risks still to be treated first, by level, asset value and age.' })
  async risks(
    @Args('filter', { type: () => RiskFilter, nullable: true }) filter?: RiskFilter | null,
    @Args('first', { type: () => Int, nullable: true }) first?: number | null,
    @Args('after', { type: () => String, nullable: true }) after?: string | null,
    @Args('asOf', { type: () => StrictDateTime, nullable: true }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: 'Alternative to asOf: the state right after this log position.' }) atPosition?: string | null,
  ) {
    const limit = pageSize(first);
    const afterKey = decodeCursor(CURSOR_TAG, after);
    const { rows, total } = await this.queries.execute(new ListRisksQuery(filter ?? {}, afterKey, limit + 1, pointInTime(asOf, atPosition)));
    return toConnection(rows, limit, total, (r) => encodeCursor(CURSOR_TAG, r.sortKey), toRiskView, afterKey !== null);
  }

  @Query(() => HeatMap, { description: 'Open analysed risks per likelihood x impact and per level, for the criteria in force (then, with asOf).' })
  heatMap(@Args('asOf', { type: () => StrictDateTime, nullable: true }) asOf?: Date | null, @Args('atPosition', { type: () => String, nullable: true, description: 'Alternative to asOf: the state right after this log position.' }) atPosition?: string | null) {
    return this.queries.execute(new HeatMapQuery(pointInTime(asOf, atPosition)));
  }

  @Query(() => ControlsDocument, { description: 'Art.18(2): the record of controls and reasons, for one risk or all.' })
  controlsDocument(@Args('riskId', { type: () => ID, nullable: true }) riskId?: string | null) {
    return this.queries.execute(new ControlsDocumentQuery(riskId, new Date()));
  }

  @Query(() => [ReviewDue], { description: 'Risks due for review on a date (default now), by the interval the criteria set for their level; with a past date, the register as it stood then.' })
  async risksDueForReview(@Args('asOf', { type: () => StrictDateTime, nullable: true }) asOf?: Date | null) {
    const due = await this.queries.execute(new ReviewsDueQuery(asOf ?? null));
    return due.map((d) => ({ ...d, risk: toRiskView({ state: d.risk, sortKey: '', priority: null, needsReevaluation: false, assetsRetired: false }) }));
  }

  @Mutation(() => Risk, { description: 'Art.14(1): identifies a risk on assets, a threat and a vulnerability, with its owner.' })
  async identifyRisk(@Args('input') input: IdentifyRiskInput, @RequestMeta() meta: Meta) {
    return toRiskView(await this.commands.execute(new IdentifyRiskCommand(input, meta)));
  }

  @Mutation(() => Risk, { description: 'Art.15: analyses a risk by the baseline, informal or detailed method.' })
  async analyseRisk(@Args('input') input: AnalyseRiskInput, @RequestMeta() meta: Meta) {
    return toRiskView(await this.commands.execute(new AnalyseRiskCommand(input, meta)));
  }

  @Mutation(() => Risk, { description: 'Art.16: evaluates a risk against the acceptance criterion in force.' })
  async evaluateRisk(@Args('input') input: RiskRefInput, @RequestMeta() meta: Meta) {
    return toRiskView(await this.commands.execute(new EvaluateRiskCommand(input, meta)));
  }

  @Mutation(() => Risk, { description: 'Art.17: decides the treatment (reduce, avoid, share) and the target level.' })
  async decideTreatment(@Args('input') input: DecideTreatmentInput, @RequestMeta() meta: Meta) {
    return toRiskView(await this.commands.execute(new DecideTreatmentCommand(input, meta)));
  }

  @Mutation(() => Risk, { description: 'Art.18: decides the controls, each with owner, due date and the reason it was adopted.' })
  async decideControls(@Args('input') input: DecideControlsInput, @RequestMeta() meta: Meta) {
    return toRiskView(await this.commands.execute(new DecideControlsCommand(input, meta)));
  }

  @Mutation(() => Risk, { description: 'Hands a risk to another owner (a material change: a consent given becomes stale).' })
  async reassignRiskOwner(@Args('input') input: ReassignRiskOwnerInput, @RequestMeta() meta: Meta) {
    return toRiskView(await this.commands.execute(new ReassignRiskOwnerCommand(input, meta)));
  }

  @Mutation(() => Risk, { description: 'Art.12(3)-(4): records a review; an actual level above the target opens a new cycle.' })
  async recordReview(@Args('input') input: RecordReviewInput, @RequestMeta() meta: Meta) {
    return toRiskView(await this.commands.execute(new RecordReviewCommand(input, meta)));
  }
}
