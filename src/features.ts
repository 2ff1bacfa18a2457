import { assetInventoryFeature } from './asset-inventory/asset-inventory.contribution.js';
import { baselineCataloguesFeature } from './baseline-catalogues/baseline-catalogues.contribution.js';
import type { FeatureContribution } from './platform/feature-contribution.js';
import { riskCriteriaFeature } from './risk-criteria/risk-criteria.contribution.js';
import { riskRegisterFeature } from './risk-register/risk-register.contribution.js';
import { treatmentPlanFeature } from './treatment-plan/treatment-plan.contribution.js';
import { contextFeature } from './context/context.contribution.js';
import { incidentsFeature } from './incidents/incidents.contribution.js';
import { evidenceFeature } from './evidence/evidence.contribution.js';
import { identityFeature } from './identity/identity.contribution.js';

/**
 * The application root's list of features: their events, read models and reactions. The order
 * is the order projections and reactions see each event (a module after the ones it reads).
 * The server (app.module.ts), the CLI and the tests assemble the system from this list.
 */
export const FEATURES: readonly FeatureContribution[] = [assetInventoryFeature, riskCriteriaFeature, baselineCataloguesFeature, riskRegisterFeature, treatmentPlanFeature, contextFeature, incidentsFeature, evidenceFeature, identityFeature];
