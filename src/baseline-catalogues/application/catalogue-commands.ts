import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { ClientCommand, commandContext } from '../../shared/application/request-meta.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { catalogueDecider, catalogueIdFor, catalogueStreamId, type CatalogueCommand } from '../domain/catalogue.decider.js';
import type { BaselineCatalogueState } from '../domain/catalogue.state.js';

/** Art.15(2): imports a baseline catalogue version (the catalogues' one mutation). */
export class ImportBaselineCatalogueCommand extends ClientCommand<
  { commandId?: string | null; name: string; version: string; requirements: { id: string; title: string; statement: string; reference?: string | null }[] },
  BaselineCatalogueState
> {}

/** Imports a catalogue version into its own stream, whose id is derived from name and version. */
@CommandHandler(ImportBaselineCatalogueCommand)
export class ImportBaselineCatalogueHandler implements ICommandHandler<ImportBaselineCatalogueCommand, BaselineCatalogueState> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ input: i, meta }: ImportBaselineCatalogueCommand): Promise<BaselineCatalogueState> {
    const ctx = commandContext(meta, this.clock, i);
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
