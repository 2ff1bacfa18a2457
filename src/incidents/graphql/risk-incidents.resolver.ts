import { Context, ID, Info, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { QueryBus } from '@nestjs/cqrs';
import type { GraphQLResolveInfo } from 'graphql';
import { chargeLinkedEntities } from '../../graphql/result-budget.js';
import { Analysis, Risk } from '../../risk-register/graphql/risk.types.js';
import { IncidentsByIdsQuery, RiskIncidentsQuery } from '../application/incident-queries.js';
import { Incident } from './incident.types.js';
import { rootPointInTime } from '../../graphql/root-point-in-time.js';

/**
 * Risk.incidents: contributed by this module to the risk register's type. At the moment the query
 * reads (the root field's asOf / atPosition), from the incidents read model or its replay.
 */
@Resolver(() => Risk)
export class RiskIncidentsResolver {
  constructor(private readonly queries: QueryBus) {}

  @ResolveField(() => [Incident], { description: 'Incidents at other firms linked to this risk (Art.15(3)), in linking order; as of the moment the query reads (asOf / atPosition of risk or risks).' })
  async incidents(@Parent() risk: { id: string }, @Info() info: GraphQLResolveInfo, @Context() context: object) {
    const incidents = await this.queries.execute(new RiskIncidentsQuery(risk.id, rootPointInTime(info)));
    chargeLinkedEntities(context, 'Risk.incidents', incidents.length);
    return incidents;
  }
}

/** Analysis.incidentIds and Analysis.incidents: the incidents an analysis cites (recorded in its RiskAnalysed event). */
@Resolver(() => Analysis)
export class AnalysisIncidentsResolver {
  constructor(private readonly queries: QueryBus) {}

  @ResolveField(() => [ID], { description: 'Ids of the incidents at other firms this analysis cites (Art.15(3)), as given to analyseRisk; empty when none.' })
  incidentIds(@Parent() analysis: { incidentIds?: string[] }): string[] {
    return analysis.incidentIds ?? [];
  }

  @ResolveField(() => [Incident], { description: 'The incidents this analysis cites (Art.15(3)), in the order given.' })
  async incidents(@Parent() analysis: { incidentIds?: string[] }, @Info() info: GraphQLResolveInfo, @Context() context: object) {
    const ids = analysis.incidentIds ?? [];
    chargeLinkedEntities(context, 'Analysis.incidents', ids.length);
    return ids.length ? this.queries.execute(new IncidentsByIdsQuery(ids, rootPointInTime(info))) : [];
  }
}
