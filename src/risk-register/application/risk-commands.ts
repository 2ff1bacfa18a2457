/**
 * The risk register's mutations (Art.14-18, 12), one command class and one handler each. Each
 * handler builds the domain command with what the decider may not fetch or make itself (the
 * assets, the criteria in force, the catalogue, new ids, the time); the pipeline runs it and
 * answers with the risk as the register now shows it (priority and flags included), so the
 * resolver returns what the command returns.
 */
import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { READ_DB, type ReadDb } from '../../projections/read-model-database.js';
import type { AnalysisMethod } from '../../risk-criteria/domain/criteria.state.js';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor, type AttemptReader } from '../../shared/application/command-executor.js';
import { newEntityId } from '../../shared/application/entity-id.js';
import { ClientCommand, commandContext, type Retryable } from '../../shared/application/request-meta.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import type { BaselineInput, DetailedInput, RiskCommand } from '../domain/risk.commands.js';
import { riskDecider } from '../domain/risk.decider.js';
import { riskStreamId } from '../domain/risk.events.js';
import type { InformalAnalysisInput, RiskState, TreatmentOption } from '../domain/risk.state.js';
import { RiskRegisterQueries, type RiskRow } from '../projections/risk-register.projection.js';
import { retirementsOnAvoidance } from './avoidance-reactions.js';
import { RiskWriteContext } from './write-context.js';
import { RiskAtPoint } from './risk-at-point.js';

type RiskRef = Retryable & { riskId: string };

export class IdentifyRiskCommand extends ClientCommand<
  Retryable & { title: string; description?: string | null; assetIds: string[]; threatId: string; vulnerabilityId: string; ownerId: string; externalReferences?: string[] | null },
  RiskRow
> {}
export class AnalyseRiskCommand extends ClientCommand<
  RiskRef & { method: AnalysisMethod; baseline?: BaselineInput | null; informal?: InformalAnalysisInput | null; detailed?: DetailedInput | null; externalReferences?: string[] | null; incidentIds?: string[] | null },
  RiskRow
> {}
export class EvaluateRiskCommand extends ClientCommand<RiskRef, RiskRow> {}
export class DecideTreatmentCommand extends ClientCommand<
  RiskRef & { options: TreatmentOption[]; rationale: string; targetLikelihood: number; targetImpact: number; counterparty?: string | null; contractReference?: string | null; retiredAssetIds?: string[] | null },
  RiskRow
> {}
export class DecideControlsCommand extends ClientCommand<
  RiskRef & { controls: { existingControlId?: string | null; title: string; description?: string | null; ownerId: string; dueDate: string; reason: string; reference?: string | null }[] },
  RiskRow
> {}
export class ReassignRiskOwnerCommand extends ClientCommand<RiskRef & { ownerId: string }, RiskRow> {}
export class WithdrawRiskCommand extends ClientCommand<RiskRef & { reason: string }, RiskRow> {}
export class RecordReviewCommand extends ClientCommand<RiskRef & { controlsInPlace: boolean; actualLikelihood: number; actualImpact: number; notes?: string | null }, RiskRow> {}

type Stamp = { actor: DomainActor; at: string };

/** The path every risk mutation takes: context, decision on the risk's stream, the register's row. */
@Injectable()
export class RiskCommandPipeline {
  constructor(
    private readonly executor: CommandExecutor,
    readonly context: RiskWriteContext,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(READ_DB) private readonly db: ReadDb,
    private readonly atPoint: RiskAtPoint,
  ) {}

  /**
   * `build` makes the domain command, once per attempt, reading what it needs through `reader`
   * (the context's reads take it): every stream read there, the criteria and the assets a rule
   * looked at included, is appended at the version read, so a concurrent criteria approval or
   * asset retirement makes the append conflict and the command is decided again on fresh state.
   * `existing` reads a risk it needs the same way (NOT_FOUND when there is none); the decision
   * then uses that very read rather than reading the risk again. A command that avoids the risk
   * appends the retirement of its assets with it (retirementsOnAvoidance).
   */
  async run(
    { input, meta }: ClientCommand<Retryable, RiskRow>,
    build: (stamp: Stamp, existing: (riskId: string) => Promise<RiskState>, reader: AttemptReader) => Promise<RiskCommand>,
  ): Promise<RiskRow> {
    const ctx = commandContext(meta, this.clock, input);
    let riskId = '';
    const { state, duplicate, position } = await this.executor.executeJoint(async (reader) => {
      const existing = async (riskId: string) => {
        const state = await reader.state(riskStreamId(riskId), riskDecider);
        if (!state.exists) throw new NotFoundError('Risk', riskId);
        return state;
      };
      const command = await build({ actor: ctx.actor, at: ctx.at }, existing, reader);
      riskId = command.riskId;
      // Avoiding the risk retires its assets in the same append (Art.17(2)).
      return { primary: { streamId: riskStreamId(command.riskId), decider: riskDecider, command }, followUp: retirementsOnAvoidance(command) };
    }, ctx, input.expectedVersion);
    if (!state.exists) throw new NotFoundError('Risk', riskId);
    // A retry of an earlier command answers its first result: the risk as it stood at the point
    // that answer stood at (or the key's acknowledgement), its lists and flags then too, not now
    // (review of 2026-12-07, M5: the old state with an analysis recorded after it).
    if (duplicate && position) {
      const then = await this.atPoint.row(state.id, { atPosition: position });
      if (then) return then;
    }
    // The pipeline waited for the projections: the register already holds this write (its row's
    // document is this state unless another command has moved the risk on since).
    const register = new RiskRegisterQueries(this.db);
    return register.byIdAt(state) ?? { state, sortKey: '', priority: null, needsReevaluation: false, assetsRetired: false, ...register.lists(state.id) };
  }

}

@CommandHandler(IdentifyRiskCommand)
export class IdentifyRiskHandler implements ICommandHandler<IdentifyRiskCommand, RiskRow> {
  constructor(private readonly pipeline: RiskCommandPipeline) {}
  execute(command: IdentifyRiskCommand): Promise<RiskRow> {
    const i = command.input;
    return this.pipeline.run(command, async (stamp, _existing, reader) => ({
      type: 'IdentifyRisk', ...stamp, riskId: newEntityId(), title: i.title, description: i.description ?? '', assetIds: i.assetIds,
      threatId: i.threatId, vulnerabilityId: i.vulnerabilityId, ownerId: i.ownerId, externalReferences: i.externalReferences ?? [],
      assets: await this.pipeline.context.assets(i.assetIds ?? [], reader),
    }));
  }
}

@CommandHandler(AnalyseRiskCommand)
export class AnalyseRiskHandler implements ICommandHandler<AnalyseRiskCommand, RiskRow> {
  constructor(private readonly pipeline: RiskCommandPipeline) {}
  execute(command: AnalyseRiskCommand): Promise<RiskRow> {
    const i = command.input;
    const context = this.pipeline.context;
    return this.pipeline.run(command, async (stamp, existing, reader) => {
      const risk = await existing(i.riskId);
      return {
        type: 'AnalyseRisk', ...stamp, riskId: i.riskId, analysisId: newEntityId(), method: i.method, baseline: i.baseline, informal: i.informal,
        detailed: i.detailed, externalReferences: i.externalReferences, criteria: await context.criteriaInForce(reader),
        assets: await context.assets(risk.assetIds, reader), catalogue: await context.catalogue(i.baseline?.catalogueId, reader),
        incidentIds: i.incidentIds, knownIncidentIds: await context.recordedIncidents(i.incidentIds ?? []),
      };
    });
  }
}

@CommandHandler(EvaluateRiskCommand)
export class EvaluateRiskHandler implements ICommandHandler<EvaluateRiskCommand, RiskRow> {
  constructor(private readonly pipeline: RiskCommandPipeline) {}
  execute(command: EvaluateRiskCommand): Promise<RiskRow> {
    const context = this.pipeline.context;
    return this.pipeline.run(command, async (stamp, existing, reader) => {
      const risk = await existing(command.input.riskId);
      return { type: 'EvaluateRisk', ...stamp, riskId: risk.id, criteria: await context.criteriaInForce(reader), assets: await context.assets(risk.assetIds, reader) };
    });
  }
}

@CommandHandler(DecideTreatmentCommand)
export class DecideTreatmentHandler implements ICommandHandler<DecideTreatmentCommand, RiskRow> {
  constructor(private readonly pipeline: RiskCommandPipeline) {}
  execute(command: DecideTreatmentCommand): Promise<RiskRow> {
    const i = command.input;
    return this.pipeline.run(command, async (stamp, _existing, reader) => ({
      type: 'DecideTreatment', ...stamp, riskId: i.riskId, options: i.options, rationale: i.rationale, targetLikelihood: i.targetLikelihood,
      targetImpact: i.targetImpact, counterparty: i.counterparty, contractReference: i.contractReference, retiredAssetIds: i.retiredAssetIds, criteria: await this.pipeline.context.criteriaInForce(reader),
    }));
  }
}

@CommandHandler(DecideControlsCommand)
export class DecideControlsHandler implements ICommandHandler<DecideControlsCommand, RiskRow> {
  constructor(private readonly pipeline: RiskCommandPipeline) {}
  execute(command: DecideControlsCommand): Promise<RiskRow> {
    const i = command.input;
    return this.pipeline.run(command, async (stamp) => ({
      type: 'DecideControls', ...stamp, riskId: i.riskId,
      controls: (i.controls ?? []).map((c) => ({ controlId: newEntityId(), existingControlId: c.existingControlId, title: c.title, description: c.description ?? '', ownerId: c.ownerId, dueDate: c.dueDate, reason: c.reason, reference: c.reference })),
    }));
  }
}

@CommandHandler(ReassignRiskOwnerCommand)
export class ReassignRiskOwnerHandler implements ICommandHandler<ReassignRiskOwnerCommand, RiskRow> {
  constructor(private readonly pipeline: RiskCommandPipeline) {}
  execute(command: ReassignRiskOwnerCommand): Promise<RiskRow> {
    const i = command.input;
    return this.pipeline.run(command, async (stamp) => ({ type: 'ReassignRiskOwner', ...stamp, riskId: i.riskId, ownerId: i.ownerId }));
  }
}

@CommandHandler(WithdrawRiskCommand)
export class WithdrawRiskHandler implements ICommandHandler<WithdrawRiskCommand, RiskRow> {
  constructor(private readonly pipeline: RiskCommandPipeline) {}
  execute(command: WithdrawRiskCommand): Promise<RiskRow> {
    const i = command.input;
    return this.pipeline.run(command, async (stamp) => ({ type: 'WithdrawRisk', ...stamp, riskId: i.riskId, reason: i.reason }));
  }
}

@CommandHandler(RecordReviewCommand)
export class RecordReviewHandler implements ICommandHandler<RecordReviewCommand, RiskRow> {
  constructor(private readonly pipeline: RiskCommandPipeline) {}
  execute(command: RecordReviewCommand): Promise<RiskRow> {
    const i = command.input;
    return this.pipeline.run(command, async (stamp, _existing, reader) => ({
      type: 'RecordReview', ...stamp, riskId: i.riskId, reviewId: newEntityId(), controlsInPlace: i.controlsInPlace, actualLikelihood: i.actualLikelihood,
      actualImpact: i.actualImpact, notes: i.notes, criteria: await this.pipeline.context.criteriaInForce(reader),
    }));
  }
}

export const RISK_COMMAND_HANDLERS = [
  RiskCommandPipeline,
  IdentifyRiskHandler,
  AnalyseRiskHandler,
  EvaluateRiskHandler,
  DecideTreatmentHandler,
  DecideControlsHandler,
  ReassignRiskOwnerHandler,
  WithdrawRiskHandler,
  RecordReviewHandler,
];
