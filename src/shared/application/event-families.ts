import { assetEventSchemaVersions, upcastAssetEvent } from '../../asset-inventory/domain/asset.decider.js';
import { assetNameEventSchemaVersions, upcastAssetNameEvent } from '../../asset-inventory/domain/asset-name.decider.js';
import { catalogueEventSchemaVersions, upcastCatalogueEvent } from '../../baseline-catalogues/domain/catalogue.decider.js';
import { criteriaEventSchemaVersions, upcastCriteriaEvent } from '../../risk-criteria/domain/criteria.decider.js';
import { riskEventSchemaVersions, upcastRiskEvent } from '../../risk-register/domain/risk.decider.js';
import { planEventSchemaVersions, upcastPlanEvent } from '../../treatment-plan/domain/plan.decider.js';
import { EventUpcasters, type EventFamily } from './event-upcasting.js';

/** Every event family the application knows. A new aggregate registers its family here. */
export function allEventFamilies(): EventFamily[] {
  return [
    { schemaVersions: assetEventSchemaVersions, upcast: (t, v, d) => upcastAssetEvent(t, v, d).data as Record<string, unknown> },
    { schemaVersions: assetNameEventSchemaVersions, upcast: (t, v, d) => upcastAssetNameEvent(t, v, d).data as Record<string, unknown> },
    { schemaVersions: criteriaEventSchemaVersions, upcast: (t, v, d) => upcastCriteriaEvent(t, v, d).data as Record<string, unknown> },
    { schemaVersions: riskEventSchemaVersions, upcast: (t, v, d) => upcastRiskEvent(t, v, d).data as Record<string, unknown> },
    { schemaVersions: planEventSchemaVersions, upcast: (t, v, d) => upcastPlanEvent(t, v, d).data as Record<string, unknown> },
    { schemaVersions: catalogueEventSchemaVersions, upcast: (t, v, d) => upcastCatalogueEvent(t, v, d).data as Record<string, unknown> },
  ];
}

export function createUpcasters(): EventUpcasters {
  return new EventUpcasters(allEventFamilies());
}
