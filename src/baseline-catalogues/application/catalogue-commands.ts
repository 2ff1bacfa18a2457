import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { commandContext, type RequestMeta } from '../../shared/application/request-meta.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { catalogueDecider, catalogueIdFor, catalogueStreamId, type CatalogueCommand } from '../domain/catalogue.decider.js';
import type { BaselineCatalogueState } from '../domain/catalogue.state.js';

export type BaselineCatalogueInput = {
  operation: 'importBaselineCatalogue';
  input: {
    commandId?: string | null;
    name: string;
    version: string;
    requirements: { id: string; title: string; statement: string; reference?: string | null }[];
  };
};

/** The catalogues' one operation; the handler maps it to the decider. */
export class BaselineCatalogueCommand extends Command<BaselineCatalogueState> {
  constructor(readonly request: BaselineCatalogueInput, readonly meta: RequestMeta) {
    super();
  }
}

/** Imports a catalogue version into its own stream, whose id is derived from name and version. */
@CommandHandler(BaselineCatalogueCommand)
export class BaselineCatalogueCommandHandler implements ICommandHandler<BaselineCatalogueCommand, BaselineCatalogueState> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ request, meta }: BaselineCatalogueCommand): Promise<BaselineCatalogueState> {
    const ctx = commandContext(meta, this.clock, request.input.commandId);
    const i = request.input;
    const domain: CatalogueCommand = {
      type: 'ImportBaselineCatalogue',
      actor: ctx.actor,
      at: ctx.at,
      catalogueId: catalogueIdFor(i.name, i.version),
      name: i.name,
      version: i.version,
      requirements: i.requirements.map((r) => ({ id: r.id, title: r.title, statement: r.statement, reference: r.reference ?? '' })),
    };
    const result = await this.executor.execute({ streamId: catalogueStreamId(domain.catalogueId), decider: catalogueDecider }, domain, ctx);
    if (!result.state.exists) throw new NotFoundError('BaselineCatalogue', domain.catalogueId);
    return result.state;
  }
}
