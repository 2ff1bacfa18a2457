import { Module } from '@nestjs/common';
import { INCIDENT_COMMAND_HANDLERS } from './application/incident-commands.js';
import { INCIDENT_QUERY_HANDLERS } from './application/incident-queries.js';
import { IncidentResolver } from './graphql/incident.resolver.js';
import { AnalysisIncidentsResolver, RiskIncidentsResolver } from './graphql/risk-incidents.resolver.js';

@Module({ providers: [...INCIDENT_COMMAND_HANDLERS, ...INCIDENT_QUERY_HANDLERS, IncidentResolver, RiskIncidentsResolver, AnalysisIncidentsResolver] })
export class IncidentsModule {}
