import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { READ_DB, type ReadDb } from '../../projections/read-model-database.js';
import { AsOfReplayer } from '../../projections/as-of-replay.js';
import type { PointInTime } from '../../shared/application/point-in-time.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import { EvidenceReadModel, type CommentRow, type EvidenceRow } from '../projections/evidence.projection.js';
import { EntityDirectory } from './entity-directory.js';

/**
 * The evidence of one entity, in the order it was attached (NOT_FOUND for an id that names
 * nothing); at a past point, as attached by then (the evidence read model replayed).
 */
export class EntityEvidenceQuery extends Query<EvidenceRow[]> {
  constructor(readonly entityId: string, readonly requireExisting = true, readonly at: PointInTime | null = null) {
    super();
  }
}

/** The comments on one entity, oldest first (NOT_FOUND for an id that names nothing). */
export class EntityCommentsQuery extends Query<CommentRow[]> {
  constructor(readonly entityId: string) {
    super();
  }
}


@QueryHandler(EntityEvidenceQuery)
export class EntityEvidenceHandler implements IQueryHandler<EntityEvidenceQuery, EvidenceRow[]> {
  private readonly model: EvidenceReadModel;
  constructor(@Inject(READ_DB) db: ReadDb, private readonly directory: EntityDirectory, private readonly replayer: AsOfReplayer) {
    this.model = new EvidenceReadModel(db);
  }
  async execute({ entityId, requireExisting, at }: EntityEvidenceQuery): Promise<EvidenceRow[]> {
    // At a point, for a parent read at that point (Control.evidence, BoardResolution.evidence): it exists.
    if (at) return this.replayer.read(at, (replayed) => new EvidenceReadModel(replayed).evidenceOf(entityId));
    const rows = this.model.evidenceOf(entityId);
    if (!rows.length && requireExisting && !(await this.directory.kindOf(entityId))) throw new NotFoundError('Entity', entityId);
    return rows;
  }
}

@QueryHandler(EntityCommentsQuery)
export class EntityCommentsHandler implements IQueryHandler<EntityCommentsQuery, CommentRow[]> {
  private readonly model: EvidenceReadModel;
  constructor(@Inject(READ_DB) db: ReadDb, private readonly directory: EntityDirectory) {
    this.model = new EvidenceReadModel(db);
  }
  async execute({ entityId }: EntityCommentsQuery): Promise<CommentRow[]> {
    const rows = this.model.commentsOn(entityId);
    if (!rows.length && !(await this.directory.kindOf(entityId))) throw new NotFoundError('Entity', entityId);
    return rows;
  }
}

