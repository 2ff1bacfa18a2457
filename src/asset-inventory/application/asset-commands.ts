import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { commandContext, type RequestMeta, type Retryable } from '../../shared/application/request-meta.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import type { AssetCommand } from '../domain/asset.decider.js';
import type { AssetCategory, AssetState, SecurityProperty } from '../domain/asset.state.js';
import { withNameReservation } from './asset-name-reservation.js';

export type AssetInventoryInput =
  | { operation: 'registerAsset'; input: Retryable & { name: string; description?: string | null; category: AssetCategory; department: string; managerId: string; confidentiality: number; integrity: number; availability: number } }
  | { operation: 'identifyThreat'; input: Retryable & { assetId: string; name: string; description?: string | null; affects: SecurityProperty[] } }
  | { operation: 'identifyVulnerability'; input: Retryable & { assetId: string; threatId: string; name: string; description?: string | null } }
  | { operation: 'reassignAssetManager'; input: Retryable & { assetId: string; managerId: string } }
  | { operation: 'retireAsset'; input: Retryable & { assetId: string; reason: string } };

/** One command type for the inventory's five operations; the handler maps each to the decider. */
export class AssetInventoryCommand extends Command<AssetState> {
  constructor(readonly request: AssetInventoryInput, readonly meta: RequestMeta) {
    super();
  }
}

/**
 * Maps each asset command to the decider and runs it through the pipeline, with the name
 * reservation that registering and retiring decide together with the asset (ids and time are
 * added here: the decider must not make them).
 */
@CommandHandler(AssetInventoryCommand)
export class AssetCommandHandler implements ICommandHandler<AssetInventoryCommand, AssetState> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ request, meta }: AssetInventoryCommand): Promise<AssetState> {
    const ctx = commandContext(meta, this.clock, request.input.commandId);
    const base = { actor: ctx.actor, at: ctx.at };
    let domain: AssetCommand;
    switch (request.operation) {
      case 'registerAsset': {
        const i = request.input;
        domain = {
          type: 'RegisterAsset', ...base, assetId: randomUUID(), name: i.name, description: i.description ?? '', category: i.category,
          department: i.department, managerId: i.managerId, confidentiality: i.confidentiality, integrity: i.integrity, availability: i.availability,
        };
        break;
      }
      case 'identifyThreat': {
        const i = request.input;
        domain = { type: 'IdentifyThreat', ...base, assetId: i.assetId, threatId: randomUUID(), name: i.name, description: i.description ?? '', affects: i.affects };
        break;
      }
      case 'identifyVulnerability': {
        const i = request.input;
        domain = { type: 'IdentifyVulnerability', ...base, assetId: i.assetId, threatId: i.threatId, vulnerabilityId: randomUUID(), name: i.name, description: i.description ?? '' };
        break;
      }
      case 'reassignAssetManager':
        domain = { type: 'ReassignAssetManager', ...base, assetId: request.input.assetId, managerId: request.input.managerId };
        break;
      case 'retireAsset':
        domain = { type: 'RetireAsset', ...base, assetId: request.input.assetId, reason: request.input.reason };
        break;
    }
    const result = await this.executor.executeJoint(withNameReservation(domain), ctx, request.input.expectedVersion);
    if (!result.state.exists) throw new NotFoundError('Asset', domain.assetId);
    return result.state;
  }
}
