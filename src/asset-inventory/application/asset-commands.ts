/**
 * The inventory's mutations (Art.14(2)), one command class and one handler each. Handlers add
 * what the decider may not make itself (new ids, the time) and run the command through the
 * pipeline together with the name reservation that registering and retiring decide with it.
 */
import { Inject, Injectable } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { newEntityId } from '../../shared/application/entity-id.js';
import { ClientCommand, commandContext, type Retryable } from '../../shared/application/request-meta.js';
import type { DomainActor } from '../../shared/domain/decider.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { assetDecider, assetStreamId, type AssetCommand } from '../domain/asset.decider.js';
import type { AssetCategory, AssetState, SecurityProperty } from '../domain/asset.state.js';
import { assumedFreeName, withNameReservation } from './asset-name-reservation.js';

export class RegisterAssetCommand extends ClientCommand<
  Retryable & { name: string; description?: string | null; category: AssetCategory; department: string; managerId: string; confidentiality: number; integrity: number; availability: number },
  AssetState
> {}
export class IdentifyThreatCommand extends ClientCommand<Retryable & { assetId: string; name: string; description?: string | null; affects: SecurityProperty[] }, AssetState> {}
export class IdentifyVulnerabilityCommand extends ClientCommand<Retryable & { assetId: string; threatId: string; name: string; description?: string | null }, AssetState> {}
export class ReassignAssetManagerCommand extends ClientCommand<Retryable & { assetId: string; managerId: string }, AssetState> {}
export class RetireAssetCommand extends ClientCommand<Retryable & { assetId: string; reason: string }, AssetState> {}

type Stamp = { actor: DomainActor; at: string };
type AnyAssetCommand = ClientCommand<Retryable, AssetState>;

/** The path every inventory mutation takes: context, decision with the name reservation, the asset as it now is. */
@Injectable()
export class AssetCommandPipeline {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async run({ input, meta }: AnyAssetCommand, build: (stamp: Stamp) => AssetCommand): Promise<AssetState> {
    const ctx = commandContext(meta, this.clock, input);
    const command = build({ actor: ctx.actor, at: ctx.at });
    // A new asset's stream (its id was made just now) has nothing to read: the first attempt
    // decides on the initial state, and the append still requires the stream to be new. Its name
    // is taken as free likewise (assumedFreeName).
    const fresh = command.type === 'RegisterAsset' ? [{ streamId: assetStreamId(command.assetId), state: assetDecider.initialState, streamVersion: -1 }, ...assumedFreeName(command)] : undefined;
    const result = await this.executor.executeJoint(withNameReservation(command), ctx, input.expectedVersion, fresh);
    if (!result.state.exists) throw new NotFoundError('Asset', command.assetId);
    return result.state;
  }
}

@CommandHandler(RegisterAssetCommand)
export class RegisterAssetHandler implements ICommandHandler<RegisterAssetCommand, AssetState> {
  constructor(private readonly pipeline: AssetCommandPipeline) {}
  execute(command: RegisterAssetCommand): Promise<AssetState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({
      type: 'RegisterAsset', ...stamp, assetId: newEntityId(), name: i.name, description: i.description ?? '', category: i.category,
      department: i.department, managerId: i.managerId, confidentiality: i.confidentiality, integrity: i.integrity, availability: i.availability,
    }));
  }
}

@CommandHandler(IdentifyThreatCommand)
export class IdentifyThreatHandler implements ICommandHandler<IdentifyThreatCommand, AssetState> {
  constructor(private readonly pipeline: AssetCommandPipeline) {}
  execute(command: IdentifyThreatCommand): Promise<AssetState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({ type: 'IdentifyThreat', ...stamp, assetId: i.assetId, threatId: newEntityId(), name: i.name, description: i.description ?? '', affects: i.affects }));
  }
}

@CommandHandler(IdentifyVulnerabilityCommand)
export class IdentifyVulnerabilityHandler implements ICommandHandler<IdentifyVulnerabilityCommand, AssetState> {
  constructor(private readonly pipeline: AssetCommandPipeline) {}
  execute(command: IdentifyVulnerabilityCommand): Promise<AssetState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({
      type: 'IdentifyVulnerability', ...stamp, assetId: i.assetId, threatId: i.threatId, vulnerabilityId: newEntityId(), name: i.name, description: i.description ?? '',
    }));
  }
}

@CommandHandler(ReassignAssetManagerCommand)
export class ReassignAssetManagerHandler implements ICommandHandler<ReassignAssetManagerCommand, AssetState> {
  constructor(private readonly pipeline: AssetCommandPipeline) {}
  execute(command: ReassignAssetManagerCommand): Promise<AssetState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({ type: 'ReassignAssetManager', ...stamp, assetId: i.assetId, managerId: i.managerId }));
  }
}

@CommandHandler(RetireAssetCommand)
export class RetireAssetHandler implements ICommandHandler<RetireAssetCommand, AssetState> {
  constructor(private readonly pipeline: AssetCommandPipeline) {}
  execute(command: RetireAssetCommand): Promise<AssetState> {
    const i = command.input;
    return this.pipeline.run(command, (stamp) => ({ type: 'RetireAsset', ...stamp, assetId: i.assetId, reason: i.reason }));
  }
}

export const ASSET_COMMAND_HANDLERS = [AssetCommandPipeline, RegisterAssetHandler, IdentifyThreatHandler, IdentifyVulnerabilityHandler, ReassignAssetManagerHandler, RetireAssetHandler];
