import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { COMMAND_ID_DESCRIPTION } from '../../graphql/descriptions.js';
import { IdLimit, TextLimit, VersionLimit } from '../../graphql/input-limits.js';

const INSTANT = 'Instant (ISO 8601, UTC).';

export enum EvidenceSource {
  ATTACHMENT = 'ATTACHMENT',
  CONTROL_PROGRESS = 'CONTROL_PROGRESS',
}
registerEnumType(EvidenceSource, {
  name: 'EvidenceSource',
  description: 'How a file came to be listed on an entity.',
  valuesMap: {
    ATTACHMENT: { description: 'attachEvidence linked it to the entity.' },
    CONTROL_PROGRESS: { description: "recordControlProgress cited it for the control (the control's evidence only)." },
  },
});

@ObjectType({ description: 'An evidence file (board minutes, a contract, an insurance policy, a test report) as linked to an entity; the log pins its SHA-256, the export carries its bytes.' })
export class Evidence {
  @Field(() => ID, { description: 'Id of the file (as answered by POST /evidence); GET /evidence/{id} downloads it.' }) id!: string;
  @Field({ description: 'Lower-case hex SHA-256 of the bytes, recorded in the log; the download is refused if the stored bytes no longer hash to it.' }) sha256!: string;
  @Field(() => Int, { description: 'Size in bytes.' }) size!: number;
  @Field({ description: 'Media type, checked against the bytes at upload, such as application/pdf.' }) mediaType!: string;
  @Field({ description: 'The file name given at upload (x-filename).' }) filename!: string;
  @Field({ description: 'What the file shows, as given by whoever attached it (or the note of the control progress that cited it).' }) description!: string;
  @Field(() => ID, { description: 'User id (JWT sub) of who attached it.' }) attachedBy!: string;
  @Field({ description: `When it was attached. ${INSTANT}` }) attachedAt!: string;
  @Field(() => ID, { description: 'The entity it is attached to.' }) entityId!: string;
  @Field(() => EvidenceSource, { description: 'Attached directly, or cited by a control progress record.' }) source!: EvidenceSource;
  @Field({ description: 'Where to download it: GET with the same bearer token.' }) downloadPath!: string;
}

@ObjectType({ description: 'Who wrote a comment.' })
export class CommentAuthor {
  @Field(() => ID, { description: 'User id (JWT sub).' }) id!: string;
  @Field({ description: 'Name from the token.' }) name!: string;
}

@ObjectType({ description: 'A comment on an entity, in the log like everything else (it shows in history of that entity).' })
export class Comment {
  @Field(() => ID, { description: 'Id of the comment.' }) id!: string;
  @Field(() => CommentAuthor, { description: 'Who wrote it.' }) author!: CommentAuthor;
  @Field({ description: 'The text, 1 to 10,000 characters.' }) text!: string;
  @Field({ description: `When it was written. ${INSTANT}` }) createdAt!: string;
  @Field(() => ID, { description: 'The entity it is on.' }) entityId!: string;
}

const ENTITY_ID_DESCRIPTION =
  'The entity: Asset.id, Risk.id, Control.id, Plan.id, BoardResolution.id, RiskCriteria.id, BaselineCatalogue.id, Incident.id or Context.id. An id that names none of them: NOT_FOUND.';

const ANNOTATED_VERSION_DESCRIPTION =
  "The entity's version the client last read: Asset.version, Risk.version (for a control, its risk's), Plan.version (for a board resolution, its plan's), RiskCriteria.version, Incident.version or Context.version; when given and the entity has moved on, the command is refused with CONCURRENCY_CONFLICT (expectedVersion, actualVersion). A baseline catalogue has none (its version is the label of its edition): BAD_USER_INPUT. Omitted, a change to the entity never refuses the annotation.";

@InputType({ description: 'Input of attachEvidence.' })
export class AttachEvidenceInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @IdLimit() @Field(() => ID, { description: ENTITY_ID_DESCRIPTION }) entityId!: string;
  @IdLimit() @Field(() => ID, { description: 'The file, as answered by POST /evidence (id). Unknown: NOT_FOUND.' }) evidenceId!: string;
  @TextLimit() @Field({ description: 'What the file shows (1 to 10,000 characters), such as "Minutes of the board meeting of 2025-04-01".' }) description!: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: ANNOTATED_VERSION_DESCRIPTION }) expectedVersion?: number;
}

@InputType({ description: 'Input of addComment.' })
export class AddCommentInput {
  @IdLimit() @Field(() => ID, { nullable: true, description: COMMAND_ID_DESCRIPTION }) commandId?: string;
  @IdLimit() @Field(() => ID, { description: ENTITY_ID_DESCRIPTION }) entityId!: string;
  @TextLimit() @Field({ description: 'The comment, 1 to 10,000 characters.' }) text!: string;
  @VersionLimit() @Field(() => Int, { nullable: true, description: ANNOTATED_VERSION_DESCRIPTION }) expectedVersion?: number;
}

export const ENTITY_ARGUMENT_DESCRIPTION = ENTITY_ID_DESCRIPTION;
