/**
 * The `version` a client reads on the entity a comment or an attachment names, for their
 * `expectedVersion` (contract: "where it targets an existing entity"). The annotation goes to the
 * entity's annotations stream, not the entity's own, so the executor compares expectedVersion with
 * this version (JointCommand.entityVersion) instead of the annotations stream's. Read through the
 * command's attempt: the entity's stream is then appended as a bare version check, and a change to
 * the entity after the read makes the append conflict and the attempt decide again on fresh state.
 *
 * Each kind's version is the one its GraphQL type shows, taken from its own decider's state (the
 * same fold the entity's commands compare expectedVersion with): a control changes with its risk
 * and a board resolution with its plan, so theirs are the parent's `version`.
 */
import { assetDecider } from '../../asset-inventory/domain/asset.decider.js';
import type { AssetState } from '../../asset-inventory/domain/asset.state.js';
import { contextDecider } from '../../context/domain/context.decider.js';
import type { ContextState } from '../../context/domain/context.state.js';
import { incidentDecider } from '../../incidents/domain/incident.decider.js';
import type { IncidentState } from '../../incidents/domain/incident.state.js';
import { riskDecider } from '../../risk-register/domain/risk.decider.js';
import type { RiskState } from '../../risk-register/domain/risk.state.js';
import { criteriaDecider, criteriaVersionNumber } from '../../risk-criteria/domain/criteria.decider.js';
import type { Evolver } from '../../shared/application/aggregate-reader.js';
import type { AttemptReader } from '../../shared/application/command-types.js';
import { BadInputError } from '../../shared/domain/errors.js';
import { planDecider } from '../../treatment-plan/domain/plan.decider.js';
import type { PlanState } from '../../treatment-plan/domain/plan.state.js';
import type { AnnotatedEntityKind } from '../domain/evidence.events.js';
import type { LocatedEntity } from './entity-directory.js';

interface VersionRead<S> {
  decider: Evolver<S>;
  version: (state: S, entityId: string) => number;
}

const read = <S>(decider: Evolver<S>, version: (state: S, entityId: string) => number): VersionRead<S> => ({ decider, version });
const riskVersion = read(riskDecider, (s: RiskState) => s.version);
const planVersion = read(planDecider, (s: PlanState) => s.version);

/** null: the kind has no version of this sort (a baseline catalogue's `version` is the label of its edition). */
const VERSION_OF: Record<AnnotatedEntityKind, VersionRead<any> | null> = {
  ASSET: read(assetDecider, (s: AssetState) => s.version),
  RISK: riskVersion,
  CONTROL: riskVersion,
  PLAN: planVersion,
  BOARD_RESOLUTION: planVersion,
  RISK_CRITERIA: read(criteriaDecider, criteriaVersionNumber),
  INCIDENT: read(incidentDecider, (s: IncidentState) => s.version),
  CONTEXT: read(contextDecider, (s: ContextState) => s.version),
  BASELINE_CATALOGUE: null,
};

/** The entity's version as its GraphQL type shows it, read in the attempt; BAD_USER_INPUT for an entity that has none to compare. */
export async function annotatedEntityVersion(reader: AttemptReader, entity: LocatedEntity, entityId: string): Promise<number> {
  const of = VERSION_OF[entity.kind];
  if (!of || entity.streamId === null) {
    throw new BadInputError({ expectedVersion: 'a baseline catalogue has no version to compare (its version is the label of its edition): send none' });
  }
  return of.version(await reader.state(entity.streamId, of.decider), entityId);
}
