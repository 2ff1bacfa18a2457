/**
 * Incidents at other firms (Art. 15(3): risk analysis must also draw on fraud and scandals at
 * others). One stream per incident, which also owns the incident's links to risks: its version
 * check orders every link and unlink of that incident, so concurrent identical links end as one.
 */
import type { Decider, DomainActor, Role } from '../../shared/domain/decider.js';
import { FieldErrors, NotFoundError } from '../../shared/domain/errors.js';
import { dayInJapan, defineRules, isNonEmptyText, longerThan, isRealDate, requireActorOrRole, requiredText, requireRole, violation } from '../../shared/domain/guards.js';
import type { IncidentEvent } from './incident.events.js';
import type { IncidentState, RiskRef } from './incident.state.js';

export const INCIDENT_LIMITS = {
  title: 200,
  organisation: 200,
  description: 10_000,
  source: 10_000,
  sources: 100,
  reason: 10_000,
} as const;

/** The incidents' rules: the analysis draws on incidents at others (Art.15(3)), and its record keeps why a link went. */
export const IncidentRules = defineRules({
  INCIDENT_NOT_LINKED: 'Art.15(3)',
});

/** Contract: any role but AUDITOR records an incident (an auditor's token is refused whatever else it carries). */
export const INCIDENT_RECORDERS: readonly Role[] = ['ASSET_MANAGER', 'RISK_OWNER', 'COMMITTEE_MEMBER', 'CISO', 'BOARD_SECRETARY', 'ADMIN'];
/** Who may link an incident to a risk or unlink it: whoever may analyse that risk (Art. 15). */
export const LINK_ROLES: readonly Role[] = ['COMMITTEE_MEMBER', 'CISO'];

interface IncidentCommandBase {
  incidentId: string;
  actor: DomainActor;
  /** ISO-8601 instant the command is handled. */
  at: string;
}

export interface RecordIncident extends IncidentCommandBase {
  type: 'RecordIncident';
  title: string;
  organisation: string;
  occurredOn: string;
  description: string;
  sources?: string[] | null;
}

export interface LinkIncidentToRisk extends IncidentCommandBase {
  type: 'LinkIncidentToRisk';
  riskId: string;
  /** The risk as its stream has it (read in the same attempt, so an owner change is ordered too). */
  risk: RiskRef;
}

export interface UnlinkIncidentFromRisk extends IncidentCommandBase {
  type: 'UnlinkIncidentFromRisk';
  riskId: string;
  risk: RiskRef;
  reason: string;
}

export type IncidentCommand = RecordIncident | LinkIncidentToRisk | UnlinkIncidentFromRisk;

export const initialIncidentState: IncidentState = {
  exists: false,
  id: '',
  version: -1,
  title: '',
  organisation: '',
  occurredOn: '',
  description: '',
  sources: [],
  recordedBy: '',
  recordedAt: '',
  riskIds: [],
  unlinked: {},
};

function sourceList(errors: FieldErrors, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    errors.add('sources', 'must be a list of strings');
    return [];
  }
  if (value.length > INCIDENT_LIMITS.sources) errors.add('sources', `must have at most ${INCIDENT_LIMITS.sources} items`);
  const out: string[] = [];
  value.forEach((v, i) => {
    if (!isNonEmptyText(v)) return void errors.add(`sources[${i}]`, 'must be a non-empty string');
    const text = v.trim();
    if (longerThan(text, INCIDENT_LIMITS.source)) errors.add(`sources[${i}]`, `must be at most ${INCIDENT_LIMITS.source} characters`);
    if (!out.includes(text)) out.push(text);
  });
  return out;
}

function decideRecord(c: RecordIncident, state: IncidentState): IncidentEvent[] {
  requireRole(c.actor, INCIDENT_RECORDERS, 'record incidents at other firms (Art.15(3))');
  const errors = new FieldErrors();
  errors.check(isNonEmptyText(c.incidentId), 'incidentId', 'is required');
  const title = requiredText(errors, 'title', c.title, INCIDENT_LIMITS.title);
  const organisation = requiredText(errors, 'organisation', c.organisation, INCIDENT_LIMITS.organisation);
  const occurredOn = typeof c.occurredOn === 'string' ? c.occurredOn.trim() : '';
  if (occurredOn === '') errors.add('occurredOn', 'is required');
  else if (!isRealDate(occurredOn)) errors.add('occurredOn', 'must be a real date (YYYY-MM-DD)');
  else {
    const today = dayInJapan(c.at);
    if (occurredOn > today) errors.add('occurredOn', `must not be after ${today} (today in Japan)`);
  }
  const description = requiredText(errors, 'description', c.description, INCIDENT_LIMITS.description);
  const sources = sourceList(errors, c.sources);
  errors.throwIfAny();
  // A retry of the same command (the id comes from the application): already recorded.
  if (state.exists) return [];
  return [{ type: 'IncidentRecorded', data: { incidentId: c.incidentId, title, organisation, occurredOn, description, sources, recordedBy: c.actor.id, recordedAt: c.at } }];
}

/** The incident and the risk exist, and the actor may analyse that risk. */
function checkLink(c: LinkIncidentToRisk | UnlinkIncidentFromRisk, state: IncidentState, action: string): void {
  if (!state.exists) throw new NotFoundError('Incident', c.incidentId);
  if (!c.risk.exists) throw new NotFoundError('Risk', c.riskId);
  requireActorOrRole(c.actor, { id: c.risk.ownerId, as: "the risk's owner" }, LINK_ROLES, action);
}

function decideLink(c: LinkIncidentToRisk, state: IncidentState): IncidentEvent[] {
  checkLink(c, state, 'link an incident to this risk');
  if (state.riskIds.includes(c.riskId)) return [];
  return [{ type: 'IncidentLinkedToRisk', data: { incidentId: state.id, riskId: c.riskId, linkedBy: c.actor.id, linkedAt: c.at } }];
}

function decideUnlink(c: UnlinkIncidentFromRisk, state: IncidentState): IncidentEvent[] {
  checkLink(c, state, 'unlink an incident from this risk');
  const errors = new FieldErrors();
  const reason = requiredText(errors, 'reason', c.reason, INCIDENT_LIMITS.reason);
  errors.throwIfAny();
  if (!state.riskIds.includes(c.riskId)) {
    // Never linked, or unlinked for this same reason (a retry): nothing to remove. Unlinked for
    // another reason, it was answered as done too, the reason recorded nowhere (the kind of the
    // race probe of 2026-12-06, F1): refused, the unlink standing.
    const earlier = state.unlinked[c.riskId];
    if (!earlier || earlier.reason === reason) return [];
    throw violation(
      IncidentRules.INCIDENT_NOT_LINKED,
      `Incident ${state.id} was unlinked from risk ${c.riskId} already (by ${earlier.by} at ${earlier.at}) for another reason: that unlink stands; link it again first to record another`,
    );
  }
  return [{ type: 'IncidentUnlinkedFromRisk', data: { incidentId: state.id, riskId: c.riskId, reason, unlinkedBy: c.actor.id, unlinkedAt: c.at } }];
}

export function decideIncident(c: IncidentCommand, state: IncidentState): IncidentEvent[] {
  switch (c.type) {
    case 'RecordIncident':
      return decideRecord(c, state);
    case 'LinkIncidentToRisk':
      return decideLink(c, state);
    case 'UnlinkIncidentFromRisk':
      return decideUnlink(c, state);
    default: {
      const unknown: never = c;
      throw new Error(`Unknown incident command ${String((unknown as { type: string }).type)}`);
    }
  }
}

export function evolveIncident(state: IncidentState, event: IncidentEvent): IncidentState {
  const version = state.version + 1;
  switch (event.type) {
    case 'IncidentRecorded': {
      const { incidentId, ...d } = event.data;
      return { ...state, ...d, sources: [...d.sources], exists: true, id: incidentId, version, riskIds: [], unlinked: {} };
    }
    case 'IncidentLinkedToRisk': {
      const { [event.data.riskId]: _relinked, ...unlinked } = state.unlinked;
      return { ...state, version, riskIds: [...state.riskIds, event.data.riskId], unlinked };
    }
    case 'IncidentUnlinkedFromRisk': {
      const { riskId, reason, unlinkedBy, unlinkedAt } = event.data;
      return { ...state, version, riskIds: state.riskIds.filter((id) => id !== riskId), unlinked: { ...state.unlinked, [riskId]: { reason, by: unlinkedBy, at: unlinkedAt } } };
    }
    default:
      return { ...state, version };
  }
}

export const incidentDecider: Decider<IncidentCommand, IncidentEvent, IncidentState> = {
  // Snapshots of this state are kept under this version: bump it whenever the state's shape (or what evolve folds into it) changes.
  stateVersion: 'incident/2',
  decide: decideIncident,
  evolve: evolveIncident,
  initialState: initialIncidentState,
  // A link is its risk.
  subjectOf: (c) => (c.type === 'LinkIncidentToRisk' || c.type === 'UnlinkIncidentFromRisk' ? c.riskId : undefined),
};
