import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { COMMAND_ID_DESCRIPTION } from '../../graphql/descriptions.js';
import { IdLimit, ListLimit, TextLimit, VersionLimit } from '../../graphql/input-limits.js';
import { CONTROL_STATUSES, isControlOverdue, progressOf, type ControlStatus } from '../domain/control-lifecycle.js';
import type { RiskState } from '../domain/risk.state.js';
import { RISK_TEXT_MAX_LENGTH } from '../domain/risk.rules.js';

export const ControlStatusEnum = Object.fromEntries(CONTROL_STATUSES.map((v) => [v, v])) as Record<ControlStatus, ControlStatus>;
registerEnumType(ControlStatusEnum, {
  name: 'ControlStatus',
  description: 'How far a control has been carried out (Art.18, 19): PLANNED → IN_PROGRESS → IMPLEMENTED → VERIFIED, or CANCELLED with a reason. VERIFIED and CANCELLED are final.',
  valuesMap: {
    PLANNED: { description: 'Decided, not started; progressPercent 0.' },
    IN_PROGRESS: { description: 'Being carried out; progressPercent 0..99. An IMPLEMENTED control found not to work goes back here (with a note).' },
    IMPLEMENTED: { description: 'In place according to its owner; progressPercent 100; not overdue.' },
    VERIFIED: { description: 'Checked in place by a COMMITTEE_MEMBER or CISO who is neither its owner nor who recorded it implemented (Art.12(3)); final.' },
    CANCELLED: { description: 'Given up, with the reason in the note (COMMITTEE_MEMBER or CISO); final; not overdue.' },
  },
});

/** The GraphQL view of a risk's controls: what was decided, with its progress and whether it is overdue at `at`. */
export function controlViews(state: RiskState, at: Date) {
  return state.controls.map((c) => {
    const progress = progressOf(state, c.controlId);
    return {
      ...c,
      id: c.controlId,
      status: progress.status,
      progressPercent: progress.progressPercent,
      progressNote: progress.note,
      overdue: state.status !== 'CLOSED' && isControlOverdue(c.dueDate, progress.status, at),
    };
  });
}

@InputType({ description: 'Input of recordControlProgress (Art.18, 19).' })
export class RecordControlProgressInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @VersionLimit()
  @Field(() => Int, {
    nullable: true,
    description: "The risk's version the client last read; when given and the risk has moved on, the command is refused with CONCURRENCY_CONFLICT (expectedVersion, actualVersion).",
  })
  expectedVersion?: number;
  @IdLimit() @Field(() => ID, { description: 'The risk.' }) riskId!: string;
  @IdLimit() @Field(() => ID, { description: 'The control, one of the risk\'s controls (Control.id).' }) controlId!: string;
  @Field(() => ControlStatusEnum, { description: 'The status after this record; the same status again records progress, a note or evidence.' }) status!: ControlStatus;
  @Field(() => Int, {
    nullable: true,
    description: 'Progress, 0..100: 0 while PLANNED, 0..99 IN_PROGRESS (omitted: kept), 100 IMPLEMENTED or VERIFIED (omitted: 100); a cancelled control keeps the progress it had.',
  })
  progressPercent?: number;
  @TextLimit() @Field({ nullable: true, description: `A note, at most ${RISK_TEXT_MAX_LENGTH.toLocaleString('en')} characters; required when CANCELLED (the reason) and when an IMPLEMENTED control goes back IN_PROGRESS.` })
  note?: string;
  @ListLimit() @IdLimit() @Field(() => [ID], { nullable: true, description: 'Evidence files cited (ids from POST /evidence); each must exist. Their SHA-256 is recorded with the progress.' })
  evidenceIds?: string[];
}

@ObjectType({ description: 'A control named with its risk (overdueControls).' })
export class ControlRef {
  @Field(() => ID, { description: 'The risk the control belongs to.' }) riskId!: string;
  @Field(() => ID, { description: 'Id of the control.' }) controlId!: string;
  @Field({ description: 'Short name of the control.' }) title!: string;
  @Field(() => ID, { description: 'User id of who carries the control out.' }) ownerId!: string;
  @Field({ description: 'Date by which it was to be in place (YYYY-MM-DD).' }) dueDate!: string;
  @Field(() => ControlStatusEnum, { description: 'Its status at the instant asked.' }) status!: ControlStatus;
  @Field(() => Int, { description: 'Its progress at the instant asked, 0..100.' }) progressPercent!: number;
}
