import { Args, Context, ID, Info, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import type { GraphQLResolveInfo } from 'graphql';
import { rootPointInTime } from '../../graphql/root-point-in-time.js';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { INPUT_ARGUMENT_DESCRIPTION, RESULT_BUDGET_DESCRIPTION } from '../../graphql/descriptions.js';
import { jsonBytes, withinResultBudget } from '../../graphql/result-budget.js';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { Control } from '../../risk-register/graphql/risk.types.js';
import { BoardResolution } from '../../treatment-plan/graphql/plan.types.js';
import { AddCommentCommand, AttachEvidenceCommand, type EvidenceView } from '../application/evidence-commands.js';
import { EntityCommentsQuery, EntityEvidenceQuery } from '../application/evidence-queries.js';
import type { EvidenceRow } from '../projections/evidence.projection.js';
import { ANNOTATION_TEXT_LIMIT } from '../domain/annotations.decider.js';
import { AddCommentInput, AttachEvidenceInput, Comment, ENTITY_ARGUMENT_DESCRIPTION, Evidence, EvidenceSource } from './evidence.types.js';

const NOT_AUDITOR = 'Any role but AUDITOR.';

function toEvidence(e: EvidenceRow | EvidenceView): Evidence {
  return { ...e, source: e.source as EvidenceSource, downloadPath: `/evidence/${encodeURIComponent(e.id)}` };
}

/** Thin adapter: evidence and comments on any entity. */
@Resolver()
export class EvidenceResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Mutation(() => Evidence, {
    description:
      `Links an uploaded file (POST /evidence) to an asset, risk, control, plan, board resolution, criteria version or catalogue, by an event carrying its SHA-256 (Art.18, 19): the log pins the exact bytes, the export carries them. Attaching the same file to the same entity again with the same description changes nothing; with another, it is refused (EVIDENCE_ALREADY_ATTACHED), the attachment standing. ${NOT_AUDITOR} ` +
      'Errors: UNAUTHENTICATED; FORBIDDEN (an AUDITOR, or a token with no role but ADMIN: ADMIN writes no domain data); BAD_USER_INPUT (description, expectedVersion); NOT_FOUND (entityId or evidenceId); CONCURRENCY_CONFLICT (expectedVersion); RULE_VIOLATION rules EVIDENCE_ALREADY_ATTACHED, ANNOTATIONS_TOO_LARGE (Art.5(4): an entity\'s comments and attachment descriptions hold at most 1,000,000 characters together); INTEGRITY_BROKEN.',
  })
  async attachEvidence(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: AttachEvidenceInput, @RequestMeta() meta: Meta) {
    return toEvidence(await this.commands.execute(new AttachEvidenceCommand(input, meta)));
  }

  // Attachments have no limit per entity, each with a 10,000-character description: 90 aliases of a
  // risk with 450 of them answered 466 MB (hostile probe of 2026-12-07, F2c). Charged as comments are.
  @Query(() => [Evidence], { description: "The evidence files attached to an entity (for a control, also those its progress records cited), in the order attached. Any authenticated role. Errors: UNAUTHENTICATED; NOT_FOUND; QUERY_TOO_COMPLEX when the request's unpaged lists pass 16 MB." })
  async evidence(@Args('entityId', { type: () => ID, description: ENTITY_ARGUMENT_DESCRIPTION }) entityId: string, @Context() context: object) {
    return (await withinResultBudget(context, `evidence(${entityId.slice(0, 80)})`, () => this.queries.execute(new EntityEvidenceQuery(entityId)), jsonBytes)).map(toEvidence);
  }

  @Mutation(() => Comment, {
    description: `Adds a comment to an entity; it is in the log and in that entity's history. ${NOT_AUDITOR} Errors: UNAUTHENTICATED; FORBIDDEN (an AUDITOR); BAD_USER_INPUT (text, expectedVersion); NOT_FOUND (entityId); CONCURRENCY_CONFLICT (expectedVersion); RULE_VIOLATION rule ANNOTATIONS_TOO_LARGE (Art.5(4): an entity's comments and attachment descriptions hold at most ${ANNOTATION_TEXT_LIMIT.toLocaleString('en')} characters together); INTEGRITY_BROKEN.`,
  })
  addComment(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: AddCommentInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new AddCommentCommand(input, meta));
  }

  @Query(() => [Comment], { description: "The comments on an entity, oldest first. Any authenticated role. Errors: UNAUTHENTICATED; NOT_FOUND; QUERY_TOO_COMPLEX when the request's histories, comments and pages of events pass 16 MB." })
  comments(@Args('entityId', { type: () => ID, description: ENTITY_ARGUMENT_DESCRIPTION }) entityId: string, @Context() context: object) {
    return withinResultBudget(context, `comments(${entityId.slice(0, 80)})`, () => this.queries.execute(new EntityCommentsQuery(entityId)), jsonBytes);
  }
}

/** Control.evidence (contract), from the evidence read model, without touching the risk register's types. */
@Resolver(() => Control)
export class ControlEvidenceResolver {
  constructor(private readonly queries: QueryBus) {}

  @ResolveField(() => [Evidence], { description: `Evidence files of the control: attached to it (attachEvidence with its id) or cited by its progress records; as of the moment the query reads (asOf / atPosition of risk or risks). ${RESULT_BUDGET_DESCRIPTION}` })
  async evidence(@Parent() control: { id: string }, @Info() info: GraphQLResolveInfo, @Context() context: object) {
    const read = () => this.queries.execute(new EntityEvidenceQuery(control.id, false, rootPointInTime(info)));
    return (await withinResultBudget(context, `evidence of control ${control.id.slice(0, 80)}`, read, jsonBytes)).map(toEvidence);
  }
}

/** BoardResolution.id and .evidence: a resolution (minutes) is an entity evidence and comments attach to. */
@Resolver(() => BoardResolution)
export class ResolutionEvidenceResolver {
  constructor(private readonly queries: QueryBus) {}

  @ResolveField(() => ID, { nullable: true, description: 'Id of the resolution (the id of the event that recorded it): pass it to attachEvidence, addComment, evidence, comments or history. Set for every recorded resolution.' })
  id(@Parent() resolution: { id?: string }) {
    return resolution.id ?? null;
  }

  @ResolveField(() => [Evidence], { description: `Evidence files attached to the resolution, such as the signed minutes; as of the moment the query reads (asOf / atPosition of plan or plans). ${RESULT_BUDGET_DESCRIPTION}` })
  async evidence(@Parent() resolution: { id?: string }, @Info() info: GraphQLResolveInfo, @Context() context: object) {
    const id = resolution.id;
    if (!id) return [];
    const read = () => this.queries.execute(new EntityEvidenceQuery(id, false, rootPointInTime(info)));
    return (await withinResultBudget(context, `evidence of resolution ${id.slice(0, 80)}`, read, jsonBytes)).map(toEvidence);
  }
}
