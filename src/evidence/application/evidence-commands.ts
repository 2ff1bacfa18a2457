import { Inject } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, type Clock } from '../../shared/application/clock.js';
import { CommandExecutor } from '../../shared/application/command-executor.js';
import { newEntityId } from '../../shared/application/entity-id.js';
import { EvidenceFiles } from '../../shared/application/evidence-files.js';
import { ClientCommand, commandContext } from '../../shared/application/request-meta.js';
import { BadInputError, NotFoundError } from '../../shared/domain/errors.js';
import { ANOTHER_COMMAND } from '../../shared/application/retried-key.js';
import { refuseAuditor, requireDomainWriter } from '../../shared/domain/guards.js';
import type { AttemptReader, JointCommand, StreamDecision } from '../../shared/application/command-types.js';
import { annotationsDecider, type AnnotationCommand, type AttachedEvidence, type EntityComment } from '../domain/annotations.decider.js';
import { evidenceFileDecider, evidenceIdFor, type EvidenceFileState } from '../domain/evidence-file.decider.js';
import { annotationStreams, evidenceFileStreams } from '../domain/evidence.events.js';
import { annotatedEntityVersion } from './annotated-entity-version.js';
import { EntityDirectory, type LocatedEntity } from './entity-directory.js';

/** Records an uploaded file (already in the blob store) in the log: POST /evidence. */
export class StoreEvidenceFileCommand extends ClientCommand<{ sha256: string; size: number; mediaType: string; filename: string }, EvidenceFileState> {}

export class AttachEvidenceCommand extends ClientCommand<{ commandId?: string | null; entityId: string; evidenceId: string; description: string; expectedVersion?: number | null }, EvidenceView> {}

export class AddCommentCommand extends ClientCommand<{ commandId?: string | null; entityId: string; text: string; expectedVersion?: number | null }, CommentView> {}

export interface EvidenceView extends Omit<AttachedEvidence, 'evidenceId'> {
  id: string;
  entityId: string;
  source: 'ATTACHMENT' | 'CONTROL_PROGRESS';
}

export interface CommentView {
  id: string;
  entityId: string;
  author: { id: string; name: string };
  text: string;
  createdAt: string;
}

export function commentView(entityId: string, c: EntityComment): CommentView {
  return { id: c.commentId, entityId, author: { id: c.authorId, name: c.authorName }, text: c.text, createdAt: c.addedAt };
}

/** The entity an annotation names, or NOT_FOUND. */
async function requireEntity(directory: EntityDirectory, entityId: string): Promise<LocatedEntity> {
  if (typeof entityId !== 'string' || entityId.trim() === '') throw new BadInputError({ entityId: 'is required' });
  const entity = await directory.locate(entityId);
  if (!entity) throw new NotFoundError('Entity', entityId);
  return entity;
}

/**
 * An annotation's command on the entity's annotations stream. With `expectedVersion`, the attempt
 * also reads the entity's version (annotated-entity-version.ts), which the executor compares
 * instead of the annotations stream's; without it, the entity's stream is not read, so no change
 * to the entity ever makes an annotation conflict.
 */
function annotating<C, S>(streamId: string, decider: StreamDecision<C, any, S>['decider'], command: C, entity: LocatedEntity, entityId: string, expectedVersion: number | null | undefined) {
  return async (reader: AttemptReader): Promise<JointCommand<S>> => ({
    primary: { streamId, decider, command },
    ...(expectedVersion !== undefined && expectedVersion !== null ? { entityVersion: await annotatedEntityVersion(reader, entity, entityId) } : {}),
  });
}

@CommandHandler(StoreEvidenceFileCommand)
export class StoreEvidenceFileHandler implements ICommandHandler<StoreEvidenceFileCommand, EvidenceFileState> {
  constructor(private readonly executor: CommandExecutor, @Inject(CLOCK) private readonly clock: Clock) {}

  async execute({ input: i, meta }: StoreEvidenceFileCommand): Promise<EvidenceFileState> {
    const ctx = commandContext(meta, this.clock);
    const evidenceId = evidenceIdFor(i.sha256, i.mediaType, i.filename);
    // The same file under the same name is one stream: racing uploads decide again and find it stored.
    const { state } = await this.executor.execute(
      { streamId: evidenceFileStreams.streamOf(evidenceId), decider: evidenceFileDecider },
      { type: 'StoreEvidenceFile', actor: ctx.actor, at: ctx.at, evidenceId, ...i },
      ctx,
    );
    return state;
  }
}

@CommandHandler(AttachEvidenceCommand)
export class AttachEvidenceHandler implements ICommandHandler<AttachEvidenceCommand, EvidenceView> {
  constructor(
    private readonly executor: CommandExecutor,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly files: EvidenceFiles,
    private readonly directory: EntityDirectory,
  ) {}

  async execute({ input: i, meta }: AttachEvidenceCommand): Promise<EvidenceView> {
    const ctx = commandContext(meta, this.clock, i);
    requireDomainWriter(ctx.actor, 'attach evidence');
    const entity = await requireEntity(this.directory, i.entityId);
    const file = await this.files.find(i.evidenceId);
    if (!file) throw new NotFoundError('Evidence', i.evidenceId);
    const command: AnnotationCommand = {
      type: 'AttachEvidence',
      actor: ctx.actor,
      at: ctx.at,
      entityId: i.entityId,
      entityKind: entity.kind,
      file: { evidenceId: file.id, sha256: file.sha256, size: file.size, mediaType: file.mediaType, filename: file.filename },
      description: i.description,
    };
    const { state, events, duplicate } = await this.executor.executeJoint(
      annotating(annotationStreams.streamOf(i.entityId), annotationsDecider, command, entity, i.entityId, i.expectedVersion),
      ctx,
      i.expectedVersion,
    );
    // A retried commandId answers the attachment its first attempt recorded (the state is the first
    // one's stream after it; the key used again for another file, entity or input is refused by the
    // executor, retried-key.ts); a first append of another kind is refused here (re-probe: an internal error).
    // (A key whose command found the file attached already answers with no events: its input is this one, satisfied-command.ts.)
    const first = duplicate ? events.find((e) => e.type === 'EvidenceAttached') : undefined;
    if (duplicate && !first && events.length > 0) throw new BadInputError({ commandId: ANOTHER_COMMAND });
    const recorded = first ? { evidenceId: String(first.data.evidenceId), entityId: String(first.data.entityId) } : { evidenceId: file.id, entityId: i.entityId };
    const attached = state.attached[recorded.evidenceId];
    if (!attached) throw new NotFoundError('Evidence', recorded.evidenceId);
    const { evidenceId, ...rest } = attached;
    return { ...rest, id: evidenceId, entityId: recorded.entityId, source: 'ATTACHMENT' };
  }
}

@CommandHandler(AddCommentCommand)
export class AddCommentHandler implements ICommandHandler<AddCommentCommand, CommentView> {
  constructor(private readonly executor: CommandExecutor, @Inject(CLOCK) private readonly clock: Clock, private readonly directory: EntityDirectory) {}

  async execute({ input: i, meta }: AddCommentCommand): Promise<CommentView> {
    const ctx = commandContext(meta, this.clock, i);
    refuseAuditor(ctx.actor);
    const entity = await requireEntity(this.directory, i.entityId);
    const commentId = newEntityId();
    const command: AnnotationCommand = { type: 'AddComment', actor: ctx.actor, at: ctx.at, commentId, entityId: i.entityId, entityKind: entity.kind, text: i.text };
    const result = await this.executor.executeJoint(
      annotating(annotationStreams.streamOf(i.entityId), annotationsDecider, command, entity, i.entityId, i.expectedVersion),
      ctx,
      i.expectedVersion,
    );
    // A retried commandId answers the comment its first attempt added.
    const added = result.events.find((e) => e.type === 'CommentAdded');
    if (result.duplicate && !added) throw new BadInputError({ commandId: ANOTHER_COMMAND });
    const id = (added?.data.commentId as string | undefined) ?? commentId;
    const comment = result.state.comments[id];
    if (!comment) throw new NotFoundError('Comment', id);
    return commentView(i.entityId, comment);
  }
}
