import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { commandContext, type RequestMeta, type Retryable } from '../../shared/application/request-meta.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import type { AnalysisMethod } from '../../risk-criteria/domain/criteria.state.js';
import { riskDecider, type BaselineInput, type DetailedInput, type RiskCommand } from '../domain/risk.decider.js';
import { riskStreamId, type InformalAnalysisInput, type RiskState, type TreatmentOption } from '../domain/risk.state.js';
import { RiskWriteContext } from './write-context.js';

export type RiskRegisterInput =
  | { operation: 'identifyRisk'; input: Retryable & { title: string; description?: string | null; assetIds: string[]; threatId: string; vulnerabilityId: string; ownerId: string; externalReferences?: string[] | null } }
  | { operation: 'analyseRisk'; input: Retryable & { riskId: string; method: AnalysisMethod; baseline?: BaselineInput | null; informal?: InformalAnalysisInput | null; detailed?: DetailedInput | null; externalReferences?: string[] | null } }
  | { operation: 'evaluateRisk'; input: Retryable & { riskId: string } }
  | { operation: 'decideTreatment'; input: Retryable & { riskId: string; options: TreatmentOption[]; rationale: string; targetLikelihood: number; targetImpact: number; counterparty?: string | null; contractReference?: string | null } }
  | { operation: 'decideControls'; input: Retryable & { riskId: string; controls: { title: string; description?: string | null; ownerId: string; dueDate: string; reason: string; reference?: string | null }[] } }
  | { operation: 'reassignRiskOwner'; input: Retryable & { riskId: string; ownerId: string } }
  | { operation: 'recordReview'; input: Retryable & { riskId: string; controlsInPlace: boolean; actualLikelihood: number; actualImpact: number; notes?: string | null } };

/** One command type for the risk register's operations (Art. 14–18, 12). */
export class RiskRegisterCommand extends Command<RiskState> {
  constructor(readonly request: RiskRegisterInput, readonly meta: RequestMeta) {
    super();
  }
}

/**
 * Builds each domain command with what the decider may not fetch or make itself (the assets,
 * the criteria in force, the catalogue, new ids, the time) and runs it through the pipeline.
 */
@CommandHandler(RiskRegisterCommand)
export class RiskCommandHandler implements ICommandHandler<RiskRegisterCommand, RiskState> {
  constructor(
    private readonly executor: CommandExecutor,
    private readonly context: RiskWriteContext,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ request, meta }: RiskRegisterCommand): Promise<RiskState> {
    const ctx = commandContext(meta, this.clock, request.input.commandId);
    const base = { actor: ctx.actor, at: ctx.at };
    let command: RiskCommand;
    switch (request.operation) {
      case 'identifyRisk': {
        const i = request.input;
        command = {
          type: 'IdentifyRisk', ...base, riskId: randomUUID(), title: i.title, description: i.description ?? '', assetIds: i.assetIds,
          threatId: i.threatId, vulnerabilityId: i.vulnerabilityId, ownerId: i.ownerId, externalReferences: i.externalReferences ?? [],
          assets: await this.context.assets(i.assetIds ?? []),
        };
        break;
      }
      case 'analyseRisk': {
        const i = request.input;
        const risk = await this.existingRisk(i.riskId);
        command = {
          type: 'AnalyseRisk', ...base, riskId: i.riskId, analysisId: randomUUID(), method: i.method, baseline: i.baseline, informal: i.informal,
          detailed: i.detailed, externalReferences: i.externalReferences, criteria: await this.context.criteriaInForce(),
          assets: await this.context.assets(risk.assetIds), catalogue: await this.context.catalogue(i.baseline?.catalogueId),
        };
        break;
      }
      case 'evaluateRisk': {
        const risk = await this.existingRisk(request.input.riskId);
        command = { type: 'EvaluateRisk', ...base, riskId: risk.id, criteria: await this.context.criteriaInForce(), assets: await this.context.assets(risk.assetIds) };
        break;
      }
      case 'decideTreatment': {
        const i = request.input;
        command = {
          type: 'DecideTreatment', ...base, riskId: i.riskId, options: i.options, rationale: i.rationale, targetLikelihood: i.targetLikelihood,
          targetImpact: i.targetImpact, counterparty: i.counterparty, contractReference: i.contractReference, criteria: await this.context.criteriaInForce(),
        };
        break;
      }
      case 'decideControls': {
        const i = request.input;
        command = {
          type: 'DecideControls', ...base, riskId: i.riskId,
          controls: (i.controls ?? []).map((c) => ({ controlId: randomUUID(), title: c.title, description: c.description ?? '', ownerId: c.ownerId, dueDate: c.dueDate, reason: c.reason, reference: c.reference })),
        };
        break;
      }
      case 'reassignRiskOwner':
        command = { type: 'ReassignRiskOwner', ...base, riskId: request.input.riskId, ownerId: request.input.ownerId };
        break;
      case 'recordReview': {
        const i = request.input;
        command = {
          type: 'RecordReview', ...base, riskId: i.riskId, reviewId: randomUUID(), controlsInPlace: i.controlsInPlace, actualLikelihood: i.actualLikelihood,
          actualImpact: i.actualImpact, notes: i.notes, criteria: await this.context.criteriaInForce(),
        };
        break;
      }
    }
    const result = await this.executor.execute({ streamId: riskStreamId(command.riskId), decider: riskDecider }, command, ctx, request.input.expectedVersion);
    if (!result.state.exists) throw new NotFoundError('Risk', command.riskId);
    return result.state;
  }

  private async existingRisk(riskId: string): Promise<RiskState> {
    const risk = await this.context.risk(riskId);
    if (!risk.exists) throw new NotFoundError('Risk', riskId);
    return risk;
  }
}
