import { createHash } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { BadInputError } from '../../shared/domain/errors.js';
import { userIdProblem } from '../../shared/domain/guards.js';
import { Args, Context, Extensions, ID, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { controlViews } from './control.types.js';
import { chargedRead, markChargedWithPage, resultBudget, withinResultBudget } from '../../graphql/result-budget.js';
import { StrictDateTime } from '../../graphql/scalars.js';
import { AFTER_DESCRIPTION, AS_OF_DESCRIPTION, AT_POSITION_DESCRIPTION, FIRST_DESCRIPTION, RESULT_BUDGET_DESCRIPTION } from '../../graphql/descriptions.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { decodeCursor, encodeCursor, pageSize, toConnection } from '../../graphql/pagination.js';
import { listInTurns } from '../../graphql/list-in-turns.js';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { pointInTime } from '../../shared/application/point-in-time.js';
import { LOOK_AHEAD_EXTENSION } from '../../graphql/root-point-in-time.js';
import {
  AnalyseRiskCommand,
  DecideControlsCommand,
  DecideTreatmentCommand,
  EvaluateRiskCommand,
  IdentifyRiskCommand,
  ReassignRiskOwnerCommand,
  RecordReviewCommand,
  WithdrawRiskCommand,
} from '../application/risk-commands.js';
import { GetRiskQuery, HeatMapQuery, ListRisksQuery, ReviewsDueQuery } from '../application/risk-queries.js';
import type { RiskRow } from '../projections/risk-register.projection.js';
import { changedSinceApproval } from '../domain/plan-and-consent.js';
import { isSortKey } from '../domain/priority.js';
import {
  AnalyseRiskInput,
  Analysis,
  Review,
  ReviewDue,
  DecideControlsInput,
  DecideTreatmentInput,
  HeatMap,
  IdentifyRiskInput,
  WithdrawRiskInput,
  ReassignRiskOwnerInput,
  RecordReviewInput,
  Risk,
  RiskConnection,
  RiskFilter,
  RiskRefInput,
} from './risk.types.js';

const CURSOR_TAG = 'risk';

/**
 * Which list of risks a cursor was read from: its filter and its point. A cursor is a key in the
 * register's order at that point, and one read from another filter or point paged after that key
 * there, silently, an empty or shifted page (scale probe of 2026-12-06, L1): it is refused.
 */
function listOf(filter: RiskFilter | null | undefined, asOf: Date | null | undefined, atPosition: string | null | undefined): string {
  const given = Object.entries(filter ?? {})
    .filter(([, value]) => value !== undefined && value !== null)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return createHash('sha256').update(JSON.stringify([given, asOf?.toISOString() ?? null, atPosition ?? null])).digest('base64url').slice(0, 11);
}

/** The register's key after which the page starts, from a cursor of this same list (listOf), or null for the first page. */
function afterKeyOf(after: string | null | undefined, list: string): string | null {
  const key = decodeCursor(CURSOR_TAG, after);
  if (key === null) return null;
  const cut = key.indexOf('~');
  if (cut < 0) throw new BadInputError({ after: 'is not a cursor of this list' });
  if (key.slice(0, cut) !== list) throw new BadInputError({ after: 'is a cursor of risks with another filter, asOf or atPosition: ask for the first page of this list' });
  const afterKey = key.slice(cut + 1);
  if (!isSortKey(afterKey)) throw new BadInputError({ after: 'is not a cursor of this list' });
  return afterKey;
}

/**
 * An empty level read as no filter: a tool that meant one got every risk (new-user probe of
 * 2026-12-05, 10). A blank owner or asset, ids, is refused with every blank id argument
 * (argument-limits.ts) before this runs.
 */
function refuseEmptyFilter(filter: RiskFilter | null | undefined): void {
  const errors: Record<string, string> = {};
  if (typeof filter?.level === 'string' && filter.level.trim() === '') errors['filter.level'] = 'must name a level (leave it out for every risk)';
  // An owner is a user id as every command checks one: one holding a character shown as nothing
  // passed as a name (race probe of 2026-12-06, 5). A blank one never gets here (argument-limits.ts).
  const owner = filter?.ownerId;
  const ownerProblem = typeof owner === 'string' ? userIdProblem(owner) : null;
  if (ownerProblem) errors['filter.ownerId'] = ownerProblem;
  if (Object.keys(errors).length) throw new BadInputError(errors);
}

/**
 * The GraphQL view of a risk: the aggregate's state plus what the register computes (priority,
 * flags). Lists that can be long (analyses, reviews) and a past priority are getters: GraphQL's
 * default resolver reads them only when the query selects the field.
 */
export function toRiskView(row: RiskRow) {
  return toRiskViewAt(row, new Date());
}

/** toRiskView with the instant controls are judged at (overdue): the clock for current reads, asOf for past ones. */
/** RiskConsent.contentAsApproved: null where no board approval of the content is on record (changedSinceApproval). */
function contentAsApproved(state: RiskRow['state'], consent: NonNullable<RiskRow['state']['consent']>): boolean | null {
  const changed = changedSinceApproval(state, consent);
  return changed === undefined ? null : changed.length === 0;
}

export function toRiskViewAt(row: RiskRow, at: Date) {
  const s = row.state;
  return {
    ...s,
    withdrawalReason: s.closedReason === 'WITHDRAWN' ? s.closedExplanation : undefined,
    withdrawnBy: s.closedReason === 'WITHDRAWN' ? s.closedBy : undefined,
    // Getters: read (and a past priority computed) only when the query selects the field.
    get priority() {
      return typeof row.priority === 'function' ? row.priority() : row.priority;
    },
    needsReevaluation: row.needsReevaluation,
    assetsRetired: row.assetsRetired,
    consent: s.consent && { ...s.consent, contentAsApproved: contentAsApproved(s, s.consent) },
    get analyses() {
      return row.analyses().map((a) => ({ ...a, id: a.analysisId }));
    },
    // Progress and `overdue` at `at`: the clock for current reads, asOf for past ones.
    controls: controlViews(s, at),
    get reviews() {
      return row.reviews().map((r) => ({ ...r, id: r.reviewId }));
    },
  };
}

const ANY_ROLE = 'Any authenticated role.';

/** Reviews due completed a slice per turn of the event loop (risksDueForReview). */
const DUE_PER_TURN = 100;

/** Thin adapter: arguments to commands and queries. */
@Resolver(() => Risk)
export class RiskResolver {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Query(() => Risk, { nullable: true, description: `One risk, or null when there is none; with asOf or atPosition, as it stood then (rebuilt from the log). ${ANY_ROLE} Errors: BAD_USER_INPUT (asOf, atPosition).` })
  async risk(
    @Args('id', { type: () => ID, description: 'Id of the risk.' }) id: string,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    const row = await this.queries.execute(new GetRiskQuery(id, pointInTime(asOf, atPosition)));
    return row ? toRiskViewAt(row, asOf ?? this.clock.now()) : null;
  }

  @Query(() => RiskConnection, { description: `The risk register by priority (Art.16): risks still to be treated first, by level, asset value and age, then the others. ${ANY_ROLE} Errors: BAD_USER_INPUT (filter, first, after, asOf, atPosition); QUERY_TOO_COMPLEX when the page's risks pass 16 MB, or once the request's pages of risks and its other unpaged lists have (a page is answered whole, and the next read refused).` })
  async risks(
    @Context() context: object,
    @Args('filter', { type: () => RiskFilter, nullable: true, description: 'Narrows the list; omit for every risk. An empty ownerId, assetId or level: BAD_USER_INPUT (it read as no filter).' }) filter?: RiskFilter | null,
    @Args('first', { type: () => Int, nullable: true, description: FIRST_DESCRIPTION }) first?: number | null,
    @Args('after', { type: () => String, nullable: true, description: AFTER_DESCRIPTION }) after?: string | null,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    refuseEmptyFilter(filter);
    const now = this.clock.now();
    const limit = pageSize(first);
    const list = listOf(filter, asOf, atPosition);
    const afterKey = afterKeyOf(after, list);
    // The page's stored risks are charged to the request's budget (12 aliases of pages just under
    // 16 MB parsed ~190 MB for one request), controls included: their field charges them no more.
    const read = () => this.queries.execute(new ListRisksQuery(filter ?? {}, afterKey, limit + 1, pointInTime(asOf, atPosition), resultBudget.bytes));
    const { rows, total } = await withinResultBudget(context, 'risks', read, (page) => page.chars, true);
    const connection = toConnection(rows, limit, total, (r) => encodeCursor(CURSOR_TAG, `${list}~${r.sortKey}`), (r) => toRiskViewAt(r, asOf ?? now), after);
    markChargedWithPage(context, connection.edges.map((e) => e.node));
    return connection;
  }

  // A risk's analyses and reviews have no limit in number (each analysis up to 50 references and a
  // 10,000-character rationale): 90 aliases of a risk analysed 600 times answered HTTP 500
  // (RangeError in the answer's JSON; hostile probe of 2026-12-07, F2b). They are rows of their
  // own, not in the stored risk a page of risks charges (page.chars): charged here, page or not.
  @ResolveField(() => [Analysis], { description: `Every analysis, all cycles, oldest first (Art.15). ${RESULT_BUDGET_DESCRIPTION}` })
  analyses(@Parent() risk: Risk, @Context() context: object): Analysis[] {
    return chargedRead(context, `analyses of risk ${risk.id.slice(0, 80)}`, () => risk.analyses);
  }

  @ResolveField(() => [Review], { description: `Every review, oldest first (Art.12(3)-(4)). ${RESULT_BUDGET_DESCRIPTION}` })
  reviews(@Parent() risk: Risk, @Context() context: object): Review[] {
    return chargedRead(context, `reviews of risk ${risk.id.slice(0, 80)}`, () => risk.reviews);
  }

  @Query(() => HeatMap, { description: `Open analysed risks per likelihood x impact and per level, for the criteria in force (then, with asOf or atPosition). ${ANY_ROLE} Errors: BAD_USER_INPUT (asOf, atPosition).` })
  heatMap(
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    return this.queries.execute(new HeatMapQuery(pointInTime(asOf, atPosition)));
  }

  // controlsDocument (the Art.18(2) record) is the documents module's (documents/graphql/controls-document.resolver.ts):
  // read at a point of the log through the same replay as GET /documents/controls.md, which it must equal.

  @Extensions({ [LOOK_AHEAD_EXTENSION]: true })
  @Query(() => [ReviewDue], { description: `Retained and accepted risks due for review on a date, by the interval the criteria in force set for their level (Art.12(3)-(4)), oldest due date first. ${ANY_ROLE}` })
  async risksDueForReview(@Args('asOf', { type: () => StrictDateTime, nullable: true, description: 'The instant to check (ISO 8601); omit for now. A past instant uses the register as it stood then.' }) asOf?: Date | null) {
    const due = await this.queries.execute(new ReviewsDueQuery(asOf ?? null));
    // Completed DUE_PER_TURN a turn: each carries a whole risk, and thousands of them with every
    // risk field were one task of 2.1 s (re-probe p13, 15,000 risks, asOf a later year).
    return listInTurns(
      due.map((d) => ({ ...d, risk: toRiskViewAt({ state: d.risk, sortKey: '', priority: null, needsReevaluation: false, assetsRetired: false, ...d.lists }, asOf ?? this.clock.now()) })),
      DUE_PER_TURN,
    );
  }

  @Mutation(() => Risk, {
    description:
      "Identifies a risk (Art.14(1)): its assets, a threat identified on one of them, a vulnerability of that threat and its owner; it starts IDENTIFIED in cycle 1. Roles: RISK_OWNER, ASSET_MANAGER (assets of their own department only), COMMITTEE_MEMBER, CISO. Errors: FORBIDDEN; NOT_FOUND (an asset); BAD_USER_INPUT (fields, e.g. a threat not on the assets or a vulnerability not of the threat); RULE_VIOLATION rule ASSET_RETIRED (Art.14(2)).",
  })
  async identifyRisk(@Args('input', { description: 'The risk to identify.' }) input: IdentifyRiskInput, @RequestMeta() meta: Meta) {
    return toRiskViewAt(await this.commands.execute(new IdentifyRiskCommand(input, meta)), this.clock.now());
  }

  @Mutation(() => Risk, {
    description:
      "Analyses a risk under the criteria in force by one method (Art.15): BASELINE, INFORMAL or DETAILED; when several methods are used in a cycle the risk's level is the highest. Roles: the risk's owner, COMMITTEE_MEMBER, CISO. Errors: FORBIDDEN; NOT_FOUND (risk, catalogue); BAD_USER_INPUT (ranges, a missing or extra method part, unanswered requirements); CONCURRENCY_CONFLICT; RULE_VIOLATION rules NO_CRITERIA_IN_FORCE (Art.13(1)), RISK_CLOSED (Art.17), RISK_IN_SUBMITTED_PLAN (Art.19).",
  })
  async analyseRisk(@Args('input', { description: 'The risk, the method and its inputs.' }) input: AnalyseRiskInput, @RequestMeta() meta: Meta) {
    return toRiskViewAt(await this.commands.execute(new AnalyseRiskCommand(input, meta)), this.clock.now());
  }

  @Mutation(() => Risk, {
    description:
      "Evaluates a risk against the acceptance criterion in force (Art.16): the highest level of the cycle's analyses makes it RETAINED or TO_TREAT and sets its treatment priority. Roles: COMMITTEE_MEMBER, CISO. Errors: FORBIDDEN; NOT_FOUND; CONCURRENCY_CONFLICT; RULE_VIOLATION rules ANALYSIS_REQUIRED (Art.15), REQUIRED_METHOD_NOT_APPLIED (Art.13(2)), RISK_ALREADY_IN_TREATMENT (Art.16), NO_CRITERIA_IN_FORCE (Art.13(1)), RISK_CLOSED (Art.17), RISK_IN_SUBMITTED_PLAN (Art.19).",
  })
  async evaluateRisk(@Args('input', { description: 'The risk to evaluate.' }) input: RiskRefInput, @RequestMeta() meta: Meta) {
    return toRiskViewAt(await this.commands.execute(new EvaluateRiskCommand(input, meta)), this.clock.now());
  }

  @Mutation(() => Risk, {
    description:
      'Decides the treatment of a TO_TREAT risk (Art.17): REDUCE, AVOID and/or SHARE, with a target residual likelihood and impact whose level meets the acceptance level. AVOID closes the risk and retires the assets retiredAssetIds names (all of them when omitted; none with an empty list: the business is given up, the assets stay); revising a planned or accepted risk makes its consent STALE (Art.20). Roles: COMMITTEE_MEMBER, CISO. Errors: FORBIDDEN; NOT_FOUND; BAD_USER_INPUT (options, ranges, SHARE details); CONCURRENCY_CONFLICT; RULE_VIOLATION rules TARGET_ABOVE_ACCEPTANCE (Art.17), RISK_NOT_TO_TREAT (Art.16), REEVALUATION_REQUIRED (Art.16), NO_CRITERIA_IN_FORCE (Art.13(1)), RISK_CLOSED (Art.17), RISK_IN_SUBMITTED_PLAN (Art.19).',
  })
  async decideTreatment(@Args('input', { description: 'The risk and its treatment.' }) input: DecideTreatmentInput, @RequestMeta() meta: Meta) {
    return toRiskViewAt(await this.commands.execute(new DecideTreatmentCommand(input, meta)), this.clock.now());
  }

  @Mutation(() => Risk, {
    description:
      "Decides the controls that make a risk's treatment concrete (Art.18), each with owner, due date and the reason it was adopted, kept for the Art.18(2) record; the list replaces the earlier one. Roles: COMMITTEE_MEMBER, CISO. Errors: FORBIDDEN; NOT_FOUND; BAD_USER_INPUT (fields, due dates); CONCURRENCY_CONFLICT; RULE_VIOLATION rules TREATMENT_REQUIRED (Art.18), RISK_CLOSED (Art.17), RISK_IN_SUBMITTED_PLAN (Art.19).",
  })
  async decideControls(@Args('input', { description: 'The risk and its controls.' }) input: DecideControlsInput, @RequestMeta() meta: Meta) {
    return toRiskViewAt(await this.commands.execute(new DecideControlsCommand(input, meta)), this.clock.now());
  }

  @Mutation(() => Risk, {
    description:
      "Hands a risk to another owner (Art.14(1)); a material change: a consent requested or given becomes STALE (Art.20). Roles: COMMITTEE_MEMBER, CISO. Errors: FORBIDDEN; NOT_FOUND; BAD_USER_INPUT; CONCURRENCY_CONFLICT; RULE_VIOLATION rules RISK_CLOSED (Art.17), RISK_IN_SUBMITTED_PLAN (Art.19).",
  })
  async reassignRiskOwner(@Args('input', { description: 'The risk and its new owner.' }) input: ReassignRiskOwnerInput, @RequestMeta() meta: Meta) {
    return toRiskViewAt(await this.commands.execute(new ReassignRiskOwnerCommand(input, meta)), this.clock.now());
  }

  @Mutation(() => Risk, {
    description:
      'Withdraws a risk identified in error or twice (Art.14(1)), before any treatment: it is CLOSED with closedReason WITHDRAWN, the reason and who withdrew it, stays in the register and its history, and its assets are untouched; withdrawn already for the same reason, nothing changes (for another: RISK_CLOSED, the first reason stands). A treated risk leaves the register by avoidance (decideTreatment with AVOID). Roles: COMMITTEE_MEMBER, CISO. Errors: FORBIDDEN; NOT_FOUND; BAD_USER_INPUT (reason); CONCURRENCY_CONFLICT; RULE_VIOLATION rules RISK_NOT_WITHDRAWABLE (Art.14(1): treated, in a plan, or beyond), RISK_CLOSED (Art.17: avoided, or withdrawn already for another reason).',
  })
  async withdrawRisk(@Args('input', { description: 'The risk and why it is withdrawn.' }) input: WithdrawRiskInput, @RequestMeta() meta: Meta) {
    return toRiskViewAt(await this.commands.execute(new WithdrawRiskCommand(input, meta)), this.clock.now());
  }

  @Mutation(() => Risk, {
    description:
      "Records a review of a RETAINED or ACCEPTED risk (Art.12(3)-(4)): whether the controls are in place and the actual likelihood and impact. An actual level above the target or above the acceptance level of the criteria in force, or controls not in place, is a finding: the risk goes back to IDENTIFIED with cycle + 1 and its plan item becomes REOPENED. Roles: the risk's owner, COMMITTEE_MEMBER, CISO. Errors: FORBIDDEN; NOT_FOUND; BAD_USER_INPUT (ranges); CONCURRENCY_CONFLICT; RULE_VIOLATION rules REVIEW_NOT_DUE (Art.12(3)), CONTROLS_NOT_IMPLEMENTED (Art.12(3): controlsInPlace true while a control is neither IMPLEMENTED, VERIFIED nor CANCELLED, or while every control is CANCELLED), NO_CRITERIA_IN_FORCE (Art.13(1)), RISK_CLOSED (Art.17).",
  })
  async recordReview(@Args('input', { description: 'The risk and what the review found.' }) input: RecordReviewInput, @RequestMeta() meta: Meta) {
    return toRiskViewAt(await this.commands.execute(new RecordReviewCommand(input, meta)), this.clock.now());
  }
}
