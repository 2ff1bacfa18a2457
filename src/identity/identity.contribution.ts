import type { FeatureContribution } from '../platform/feature-contribution.js';
import { tokenRevocationEventSchemaVersions, upcastTokenRevocationEvent } from './domain/token-revocation.events.js';

/** Revocations of people's tokens: one short stream, folded at each start into the verifier's list, so no read model. */
export const identityFeature: FeatureContribution = {
  name: 'identity',
  events: [{ schemaVersions: tokenRevocationEventSchemaVersions, upcast: (t, v, d) => upcastTokenRevocationEvent(t, v, d).data as Record<string, unknown> }],
};
