import { AssetRegisterProjection } from '../asset-inventory/projections/asset-register.projection.js';
import { CatalogueProjection } from '../baseline-catalogues/projections/catalogue.projection.js';
import { CriteriaProjection } from '../risk-criteria/projections/criteria.projection.js';
import { RiskRegisterProjection } from '../risk-register/projections/risk-register.projection.js';
import { PlanProjection } from '../treatment-plan/projections/plan.projection.js';
import type { Projection } from './projection.js';

/** Every read model the application serves. The runner applies them in this order, in one transaction per page. */
export function allProjections(): Projection[] {
  return [new AssetRegisterProjection(), new CriteriaProjection(), new CatalogueProjection(), new RiskRegisterProjection(), new PlanProjection()];
}
