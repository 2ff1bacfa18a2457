/**
 * Incidents at other firms (Art.15(3)): one command class and one handler per mutation. The link
 * between an incident and a risk is decided on the incident's stream (the one owner of that
 * decision: its version check orders concurrent links and unlinks of the incident); the risk is
 * read in the same attempt and appended as a bare version check, so the owner check cannot be
 * undone by a concurrent change of owner.
 */
import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { READ_DB, type ReadDb } from '../../projections/read-model-database.js';
import { riskDecider } from '../../risk-register/domain/risk.decider.js';
import { riskStreamId } from '../../risk-register/domain/risk.events.js';
import type { RiskState } from '../../risk-register/domain/risk.state.js';
import { RiskRegisterQueries, type RiskRow } from '../../risk-register/projections/risk-register.projection.js';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { newEntityId } from '../../shared/application/entity-id.js';
import { ClientCommand, commandContext, type Retryable } from '../../shared/application/request-meta.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { incidentDecider, type IncidentCommand } from '../domain/incident.decider.js';
import { incidentStreamId, type IncidentState } from '../domain/incident.state.js';

export class RecordIncidentCommand extends ClientCommand<
  Omit<Retryable, 'expectedVersion'> & { title: string; organisation: string; occurredOn: string; description: string; sources?: string[] | null },
  IncidentState
> {}
export class LinkIncidentToRiskCommand extends ClientCommand<Retryable & { incidentId: string; riskId: string }, RiskRow> {}
export class UnlinkIncidentFromRiskCommand extends ClientCommand<Retryable & { incidentId: string; riskId: string; reason: string }, RiskRow> {}

@CommandHandler(RecordIncidentCommand)
export class RecordIncidentHandler implements ICommandHandler<RecordIncidentCommand, IncidentState> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ input: i, meta }: RecordIncidentCommand): Promise<IncidentState> {
    const ctx = commandContext(meta, this.clock, i);
    const incidentId = newEntityId();
    const command: IncidentCommand = {
      type: 'RecordIncident', actor: ctx.actor, at: ctx.at, incidentId,
      title: i.title, organisation: i.organisation, occurredOn: i.occurredOn, description: i.description, sources: i.sources,
    };
    const { state } = await this.executor.execute({ streamId: incidentStreamId(incidentId), decider: incidentDecider }, command, ctx);
    return state;
  }
}

/** The link and unlink path: decided on the incident's stream, answered with the risk as the register shows it. */
@Injectable()
export class IncidentLinkPipeline {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(READ_DB) private readonly db: ReadDb,
  ) {}

  async run(
    { input: i, meta }: ClientCommand<Retryable & { incidentId: string; riskId: string }, RiskRow>,
    command: (risk: RiskState, stamp: { actor: IncidentCommand['actor']; at: string }) => IncidentCommand,
  ): Promise<RiskRow> {
    const ctx = commandContext(meta, this.clock, i);
    let risk: RiskState | undefined;
    await this.executor.executeJoint(
      async (reader) => {
        risk = await reader.state(riskStreamId(i.riskId), riskDecider);
        return { primary: { streamId: incidentStreamId(i.incidentId), decider: incidentDecider, command: command(risk, { actor: ctx.actor, at: ctx.at }) } };
      },
      ctx,
      i.expectedVersion,
    );
    if (!risk?.exists) throw new NotFoundError('Risk', i.riskId);
    // The risk existed before this command, and the pipeline waited for the projections after any
    // append: the register holds it (only a register lagging behind another instance's write would not).
    const row = new RiskRegisterQueries(this.db).byId(i.riskId);
    if (!row) throw new NotFoundError('Risk', i.riskId);
    return row;
  }
}

@CommandHandler(LinkIncidentToRiskCommand)
export class LinkIncidentToRiskHandler implements ICommandHandler<LinkIncidentToRiskCommand, RiskRow> {
  constructor(private readonly pipeline: IncidentLinkPipeline) {}
  execute(command: LinkIncidentToRiskCommand): Promise<RiskRow> {
    const i = command.input;
    return this.pipeline.run(command, (risk, stamp) => ({
      type: 'LinkIncidentToRisk', ...stamp, incidentId: i.incidentId, riskId: i.riskId, risk: { exists: risk.exists, ownerId: risk.ownerId },
    }));
  }
}

@CommandHandler(UnlinkIncidentFromRiskCommand)
export class UnlinkIncidentFromRiskHandler implements ICommandHandler<UnlinkIncidentFromRiskCommand, RiskRow> {
  constructor(private readonly pipeline: IncidentLinkPipeline) {}
  execute(command: UnlinkIncidentFromRiskCommand): Promise<RiskRow> {
    const i = command.input;
    return this.pipeline.run(command, (risk, stamp) => ({
      type: 'UnlinkIncidentFromRisk', ...stamp, incidentId: i.incidentId, riskId: i.riskId, reason: i.reason, risk: { exists: risk.exists, ownerId: risk.ownerId },
    }));
  }
}

export const INCIDENT_COMMAND_HANDLERS = [RecordIncidentHandler, IncidentLinkPipeline, LinkIncidentToRiskHandler, UnlinkIncidentFromRiskHandler];
