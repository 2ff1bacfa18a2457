import type { Decider, DomainActor } from '../../shared/domain/decider.js';
import { defineRules, FieldErrors, refuseAuditor, requireDomainWriter, requiredText, violation } from '../../shared/domain/guards.js';
import type { AnnotatedEntityKind, AnnotationEvent } from './evidence.events.js';
import { EVIDENCE_LIMITS } from './evidence-file.decider.js';

/** The file as stored (EvidenceFileStored), looked up by the handler. */
export interface EvidenceFileRef {
  evidenceId: string;
  sha256: string;
  size: number;
  mediaType: string;
  filename: string;
}

export interface AttachEvidence {
  type: 'AttachEvidence';
  actor: DomainActor;
  at: string;
  entityId: string;
  /** The entity as found by the handler (it exists). */
  entityKind: AnnotatedEntityKind;
  file: EvidenceFileRef;
  description: unknown;
}

export interface AddComment {
  type: 'AddComment';
  actor: DomainActor;
  at: string;
  commentId: string;
  entityId: string;
  entityKind: AnnotatedEntityKind;
  text: unknown;
}

export type AnnotationCommand = AttachEvidence | AddComment;

/** The annotations' rules: evidence is the record of how the measures operate, kept (Art.5(4)). */
export const ANNOTATION_RULES = defineRules({
  EVIDENCE_ALREADY_ATTACHED: 'Art.5(4)',
  ANNOTATIONS_TOO_LARGE: 'Art.5(4)',
});

/**
 * The characters (UTF-16 code units) of one entity's comments and attachment descriptions
 * together. Neither had a limit in number: 1,200 comments of 10,000 emoji on one risk were read
 * whole by each comments(entityId), and eight such requests at once held the event loop up to 4 s
 * (hostile re-probe of 2026-12-07, D). A million characters is some 100 full comments, or
 * thousands of ordinary ones.
 */
export const ANNOTATION_TEXT_LIMIT = 1_000_000;

function refuseTooLarge(s: AnnotationsState, entityId: string, adding: number): void {
  let held = 0;
  for (const a of Object.values(s.attached)) held += a.description.length;
  for (const c of Object.values(s.comments)) held += c.text.length;
  if (held + adding <= ANNOTATION_TEXT_LIMIT) return;
  throw violation(
    ANNOTATION_RULES.ANNOTATIONS_TOO_LARGE,
    `The comments and attachment descriptions of ${entityId} hold ${held} characters; ${adding} more pass the most one entity holds (${ANNOTATION_TEXT_LIMIT}): attach a document instead, or describe it briefly`,
  );
}

export interface AttachedEvidence extends EvidenceFileRef {
  description: string;
  attachedBy: string;
  attachedAt: string;
}

export interface EntityComment {
  commentId: string;
  text: string;
  authorId: string;
  authorName: string;
  addedAt: string;
}

export interface AnnotationsState {
  entityId: string | null;
  /** By evidence id, in attachment order. */
  attached: Record<string, AttachedEvidence>;
  comments: Record<string, EntityComment>;
}

export const initialAnnotationsState: AnnotationsState = { entityId: null, attached: {}, comments: {} };

function decide(c: AnnotationCommand, s: AnnotationsState): AnnotationEvent[] {
  // Any role may annotate, but an auditor changes nothing (Art.23(3)).
  refuseAuditor(c.actor);
  const errors = new FieldErrors();
  switch (c.type) {
    case 'AttachEvidence': {
      requireDomainWriter(c.actor, 'attach evidence');
      const description = requiredText(errors, 'description', c.description, EVIDENCE_LIMITS.description);
      errors.throwIfAny();
      // The same file attached again to the same entity is already satisfied; with another
      // description it was answered as done too, the description recorded nowhere (the kind of the
      // race probe of 2026-12-06, F1): refused, the attachment standing.
      const earlier = s.attached[c.file.evidenceId];
      if (earlier && earlier.description === description) return [];
      if (!earlier) refuseTooLarge(s, c.entityId, description.length);
      if (earlier) {
        throw violation(
          ANNOTATION_RULES.EVIDENCE_ALREADY_ATTACHED,
          `Evidence ${c.file.evidenceId} is attached to ${c.entityId} already (by ${earlier.attachedBy} at ${earlier.attachedAt}) with another description: that attachment stands; add a comment to say more`,
        );
      }
      return [
        {
          type: 'EvidenceAttached',
          data: { entityId: c.entityId, entityKind: c.entityKind, ...c.file, description, attachedBy: c.actor.id, attachedAt: c.at },
        },
      ];
    }
    case 'AddComment': {
      const text = requiredText(errors, 'text', c.text, EVIDENCE_LIMITS.comment);
      errors.throwIfAny();
      if (s.comments[c.commentId]) return [];
      refuseTooLarge(s, c.entityId, text.length);
      return [
        {
          type: 'CommentAdded',
          data: { commentId: c.commentId, entityId: c.entityId, entityKind: c.entityKind, text, authorId: c.actor.id, authorName: c.actor.name, addedAt: c.at },
        },
      ];
    }
  }
}

function evolve(s: AnnotationsState, e: AnnotationEvent): AnnotationsState {
  switch (e.type) {
    case 'EvidenceAttached': {
      const { entityId, entityKind: _kind, ...rest } = e.data;
      return { ...s, entityId, attached: { ...s.attached, [rest.evidenceId]: rest } };
    }
    case 'CommentAdded': {
      const d = e.data;
      return { ...s, entityId: d.entityId, comments: { ...s.comments, [d.commentId]: { commentId: d.commentId, text: d.text, authorId: d.authorId, authorName: d.authorName, addedAt: d.addedAt } } };
    }
    default:
      return s;
  }
}

/** The notes on one entity: the evidence attached to it and the comments on it. */
export const annotationsDecider: Decider<AnnotationCommand, AnnotationEvent, AnnotationsState> = {
  decide,
  evolve,
  initialState: initialAnnotationsState,
  stateVersion: 'annotations/1',
  // The stream follows the entity named, which has none until its first note: the entity (and the
  // file attached) tell another request from a retry (re-probe F1: a key used again on another
  // entity or file answered the first and did nothing).
  subjectOf: (c) => (c.type === 'AttachEvidence' ? `${c.entityId}/${c.file.evidenceId}` : c.entityId),
};
