import { Args, Context, ID, Info, Int, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { GraphQLResolveInfo } from 'graphql';
import { AFTER_DESCRIPTION, AS_OF_DESCRIPTION, AT_POSITION_DESCRIPTION, FIRST_DESCRIPTION, INPUT_ARGUMENT_DESCRIPTION } from '../../graphql/descriptions.js';
import { listInTurns } from '../../graphql/list-in-turns.js';
import { decodeSeqCursor, encodeCursor, pageSize, toConnection } from '../../graphql/pagination.js';
import { chargeLinkedEntities } from '../../graphql/result-budget.js';
import { StrictDateTime } from '../../graphql/scalars.js';
import { RequestMeta } from '../../identity/graphql/current-actor.decorator.js';
import { GetRiskQuery } from '../../risk-register/application/risk-queries.js';
import { toRiskView, toRiskViewAt } from '../../risk-register/graphql/risk.resolver.js';
import { Risk } from '../../risk-register/graphql/risk.types.js';
import { pointInTime } from '../../shared/application/point-in-time.js';
import { mapInTurns } from '../../shared/application/turns.js';
import type { RequestMeta as Meta } from '../../shared/application/request-meta.js';
import { LinkIncidentToRiskCommand, RecordIncidentCommand, UnlinkIncidentFromRiskCommand } from '../application/incident-commands.js';
import { GetIncidentQuery, ListIncidentsQuery } from '../application/incident-queries.js';
import type { IncidentState } from '../domain/incident.state.js';
import { Incident, IncidentConnection, LinkIncidentToRiskInput, RecordIncidentInput, UnlinkIncidentFromRiskInput } from './incident.types.js';
import { rootPointInTime } from '../../graphql/root-point-in-time.js';

const CURSOR_TAG = 'incident';
const ANY_ROLE = 'Any authenticated role.';
/** Linked risks read and completed per turn of the event loop (as a connection's edges: EDGES_PER_TURN). */
const LINKED_PER_TURN = 50;
const LINKERS = "The risk's owner, COMMITTEE_MEMBER or CISO (whoever may analyse the risk).";

/** Thin adapter: arguments to commands and queries. */
@Resolver(() => Incident)
export class IncidentResolver {
  constructor(private readonly commands: CommandBus, private readonly queries: QueryBus) {}

  @Query(() => Incident, { nullable: true, description: `One incident at another firm (Art.15(3)), or null; with asOf or atPosition, as it stood then (its links then). ${ANY_ROLE} Errors: BAD_USER_INPUT (asOf, atPosition).` })
  incident(
    @Args('id', { type: () => ID, description: 'Id of the incident.' }) id: string,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    return this.queries.execute(new GetIncidentQuery(id, pointInTime(asOf, atPosition)));
  }

  @Query(() => IncidentConnection, { description: `Incidents at other firms (Art.15(3)) in the order they were recorded. ${ANY_ROLE} Errors: BAD_USER_INPUT (first, after, asOf, atPosition).` })
  async incidents(
    @Args('first', { type: () => Int, nullable: true, description: FIRST_DESCRIPTION }) first?: number | null,
    @Args('after', { type: () => String, nullable: true, description: AFTER_DESCRIPTION }) after?: string | null,
    @Args('asOf', { type: () => StrictDateTime, nullable: true, description: AS_OF_DESCRIPTION }) asOf?: Date | null,
    @Args('atPosition', { type: () => String, nullable: true, description: AT_POSITION_DESCRIPTION }) atPosition?: string | null,
  ) {
    const limit = pageSize(first);
    const afterSeq = decodeSeqCursor(CURSOR_TAG, after);
    const { rows, total } = await this.queries.execute(new ListIncidentsQuery(afterSeq, limit + 1, pointInTime(asOf, atPosition)));
    return toConnection(rows, limit, total, (r) => encodeCursor(CURSOR_TAG, r.seq), (r) => r.state, after);
  }

  @ResolveField(() => [Risk], { description: 'The risks it is linked to (as the register stood at the moment the query reads), in linking order.' })
  async risks(@Parent() incident: IncidentState, @Info() info: GraphQLResolveInfo, @Context() context: object) {
    chargeLinkedEntities(context, 'Incident.risks', incident.riskIds.length);
    const at = rootPointInTime(info);
    // Controls' `overdue` judged at the root's asOf, like the rest of the answer (the clock otherwise).
    const day = at?.asOf ?? new Date();
    // Read, viewed and completed LINKED_PER_TURN at a time: an incident linked to 500 risks was one
    // task of ~300 ms with each risk's controls and analyses (probe p12).
    const views = await mapInTurns(incident.riskIds, LINKED_PER_TURN, async (id) => {
      const row = await this.queries.execute(new GetRiskQuery(id, at));
      return row === null ? null : toRiskViewAt(row, day);
    });
    return listInTurns(
      views.filter((v) => v !== null),
      LINKED_PER_TURN,
    );
  }

  @Mutation(() => Incident, {
    description: `Records an incident or fraud at another firm (Art.15(3)) and returns it; risks and analyses then cite it. Any role but AUDITOR. Errors: UNAUTHENTICATED; FORBIDDEN (an AUDITOR); BAD_USER_INPUT (fields, such as occurredOn in the future); INTEGRITY_BROKEN.`,
  })
  recordIncident(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: RecordIncidentInput, @RequestMeta() meta: Meta) {
    return this.commands.execute(new RecordIncidentCommand(input, meta));
  }

  @Mutation(() => Risk, {
    description: `Links an incident to a risk it informs (Art.15(3)) and returns the risk (Risk.incidents then lists it). Decided on the incident's stream: linking twice, or by many clients at once, leaves one link. ${LINKERS} Errors: UNAUTHENTICATED; FORBIDDEN; NOT_FOUND (incident, risk); CONCURRENCY_CONFLICT (expectedVersion, the incident's); INTEGRITY_BROKEN.`,
  })
  async linkIncidentToRisk(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: LinkIncidentToRiskInput, @RequestMeta() meta: Meta) {
    return toRiskView(await this.commands.execute(new LinkIncidentToRiskCommand(input, meta)));
  }

  @Mutation(() => Risk, {
    description: `Removes the link between an incident and a risk, with a reason kept in the incident's history, and returns the risk. A link never made is nothing to remove (already satisfied); a link removed already is so again for the same reason, and refused for another (RULE_VIOLATION INCIDENT_NOT_LINKED, the unlink standing: link it again first). ${LINKERS} Errors: UNAUTHENTICATED; FORBIDDEN; NOT_FOUND (incident, risk); BAD_USER_INPUT (reason); RULE_VIOLATION INCIDENT_NOT_LINKED (Art.15(3)); CONCURRENCY_CONFLICT (expectedVersion, the incident's); INTEGRITY_BROKEN.`,
  })
  async unlinkIncidentFromRisk(@Args('input', { description: INPUT_ARGUMENT_DESCRIPTION }) input: UnlinkIncidentFromRiskInput, @RequestMeta() meta: Meta) {
    return toRiskView(await this.commands.execute(new UnlinkIncidentFromRiskCommand(input, meta)));
  }
}
