import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AsOfReplayer } from '../../projections/as-of-replay.js';
import { READ_DB, type ReadDb } from '../../projections/read-model-database.js';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { eachInTurns } from '../../shared/application/turns.js';
import { dayInJapan } from '../../shared/domain/guards.js';
import { overdueControlsOn, type ControlStatus } from '../domain/control-lifecycle.js';
import type { RiskState } from '../domain/risk.state.js';
import { RiskRegisterQueries } from '../projections/risk-register.projection.js';
import { lookAheadPoint } from '../../shared/application/point-in-time.js';

export interface ControlRefView {
  riskId: string;
  controlId: string;
  title: string;
  ownerId: string;
  dueDate: string;
  status: ControlStatus;
  progressPercent: number;
}

/**
 * The controls overdue at an instant of the register, earliest due date first; RISKS_PER_TURN risks
 * judged a turn of the event loop (15,000 risks with 27,000 controls held it 100-180 ms: probe p12).
 */
export async function overdueControlRefs(risks: readonly RiskState[], at: Date): Promise<ControlRefView[]> {
  const day = dayInJapan(at);
  const refs: ControlRefView[] = [];
  await eachInTurns(risks, RISKS_PER_TURN, (risk) => {
    for (const { control, progress } of overdueControlsOn(risk, day)) {
      refs.push({
        riskId: risk.id,
        controlId: control.controlId,
        title: control.title,
        ownerId: control.ownerId,
        dueDate: control.dueDate,
        status: progress.status,
        progressPercent: progress.progressPercent,
      });
    }
  });
  return refs.sort((a, b) => a.dueDate.localeCompare(b.dueDate) || a.riskId.localeCompare(b.riskId) || a.controlId.localeCompare(b.controlId));
}

const RISKS_PER_TURN = 1_000;

/** Controls overdue at an instant (default now); a past instant reads the register as it stood then. */
export class OverdueControlsQuery extends Query<ControlRefView[]> {
  constructor(readonly asOf: Date | null) {
    super();
  }
}

@QueryHandler(OverdueControlsQuery)
export class OverdueControlsHandler implements IQueryHandler<OverdueControlsQuery, ControlRefView[]> {
  constructor(
    @Inject(READ_DB) private readonly db: ReadDb,
    private readonly replayer: AsOfReplayer,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ asOf }: OverdueControlsQuery): Promise<ControlRefView[]> {
    const now = this.clock.now();
    const at = asOf ?? now;
    const query = async (db: ReadDb) => overdueControlRefs(await new RiskRegisterQueries(db).allStates(), at);
    // A later instant reads today's register (with today's controls) against that instant.
    const point = lookAheadPoint(asOf, now.getTime());
    return this.replayer.readAtOrNow(point, this.db, query);
  }
}
