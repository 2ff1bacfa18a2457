import { Inject } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { Args, Context, Extensions, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { LOOK_AHEAD_EXTENSION } from '../../graphql/root-point-in-time.js';
import { StrictDateTime } from '../../graphql/scalars.js';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { RecordControlProgressCommand } from '../application/control-commands.js';
import { OverdueControlsQuery } from '../application/control-queries.js';
import { ControlRef, RecordControlProgressInput } from './control.types.js';
import { toRiskViewAt } from './risk.resolver.js';
import { Control, ControlsDocument, ControlsDocumentEntry, Risk } from './risk.types.js';
import { approxJsonBytes, chargeResultBytes, isChargedWithPage } from '../../graphql/result-budget.js';
import type { ControlsDocumentView } from '../application/controls-document.js';
import { listInTurns } from '../../graphql/list-in-turns.js';
import { RESULT_BUDGET_DESCRIPTION } from '../../graphql/descriptions.js';

/** Thin adapter for following the plan through (Art.18, 19, 12(3)): control progress and overdue controls. */
@Resolver(() => Risk)
export class ControlResolver {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Extensions({ [LOOK_AHEAD_EXTENSION]: true })
  @Query(() => [ControlRef], {
    description:
      "Controls whose due date has passed (Japan's calendar day) and that are not IMPLEMENTED, VERIFIED or CANCELLED, earliest due date first (Art.18, 19). Any authenticated role. Errors: BAD_USER_INPUT (asOf).",
  })
  overdueControls(
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: 'The instant to judge at (ISO 8601); omit for now. A past instant uses the register as it stood then; a later one, the controls as they stand now.' })
    asOf?: Date | null,
  ) {
    return this.queries.execute(new OverdueControlsQuery(asOf ?? null)).then((refs) => listInTurns(refs));
  }

  @ResolveField(() => [Control], {
    description: `The controls decided (Art.18); empty until decided. ${RESULT_BUDGET_DESCRIPTION}`,
  })
  controls(@Parent() risk: Risk, @Context() context: object): Control[] {
    // Up to 500 controls of three 10,000-character texts a risk: risks(first: 500) could gather gigabytes.
    // A risk of a page was charged whole with it (risks(first)); one read alone is charged here.
    if (!isChargedWithPage(context, risk)) chargeResultBytes(context, `controls of risk ${risk.id.slice(0, 80)}`, approxJsonBytes(risk.controls));
    return risk.controls;
  }

  @Mutation(() => Risk, {
    description:
      "Records how far a control has come (Art.18, 19): PLANNED → IN_PROGRESS → IMPLEMENTED → VERIFIED, or CANCELLED with a reason; progressPercent consistent with the status, a note, evidence files cited by id (their SHA-256 is recorded). The same status, percentage and note again changes nothing; a final status (VERIFIED, CANCELLED) sent again with another note or new evidence is CONTROL_FINAL, the record standing. Progress leaves a consent as it is, and goes on while the risk's plan is before the board; a cancellation makes a live consent STALE (CONTROLS_REVISED: the owner is asked again) and is refused while the plan is submitted (the board decides on the controls as submitted). Roles: the control's owner, COMMITTEE_MEMBER, CISO; VERIFIED and CANCELLED by COMMITTEE_MEMBER or CISO only. Errors: FORBIDDEN; NOT_FOUND (risk, control); BAD_USER_INPUT (status, progressPercent, note, evidenceIds); CONCURRENCY_CONFLICT; RULE_VIOLATION rules CONTROL_FINAL (Art.18), CONTROL_TRANSITION_NOT_ALLOWED (Art.19), CONTROL_SELF_VERIFICATION (Art.12(3)), RISK_CLOSED (Art.17), RISK_IN_SUBMITTED_PLAN (Art.19, a cancellation).",
  })
  async recordControlProgress(@Args('input', { description: 'The control and its progress.' }) input: RecordControlProgressInput, @RequestMeta() meta: Meta) {
    return toRiskViewAt(await this.commands.execute(new RecordControlProgressCommand(input, meta)), this.clock.now());
  }
}

/** `ControlsDocument.entries`: the record's entries, completed by graphql-js a slice per turn (listInTurns). */
@Resolver(() => ControlsDocument)
export class ControlsDocumentEntriesResolver {
  @ResolveField(() => [ControlsDocumentEntry], { description: `One entry per risk and cycle: the cycles a review closed first, oldest first, then the current one when it has controls or superseded ones. Within an entry, what a later decision of the cycle superseded is in supersededControls and supersededTreatments. ${RESULT_BUDGET_DESCRIPTION}` })
  entries(@Parent() document: ControlsDocumentView, @Context() context: object) {
    // Every control of every risk and cycle, superseded ones too (the record its markdown renders,
    // charged there): charged here as a risk's controls are.
    chargeResultBytes(context, 'controlsDocument.entries', approxJsonBytes(document.entries));
    return listInTurns(document.entries);
  }
}
