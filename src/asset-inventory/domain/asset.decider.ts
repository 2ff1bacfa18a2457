/**
 * The InformationAsset aggregate (Art. 14(2): the inventory of information assets with, per
 * asset, its value or importance, its manager, its threats and, per threat, its
 * vulnerabilities). Pure: time (`at`) and new ids arrive in the command. Its events (the
 * storage contract) are in asset.events.ts.
 */
import type { Decider, DomainActor } from '../../shared/domain/decider.js';
import { FieldErrors, ForbiddenError, NotFoundError } from '../../shared/domain/errors.js';
import { checkIntIn, defineRules, hasRole, isNonEmptyText, longerThan, refuseAuditor, requiredText, streamCategory, violation, requiredUserId } from '../../shared/domain/guards.js';
import { nameKey } from '../../shared/domain/name-key.js';
import { departmentKey, sameDepartment } from './asset-name.decider.js';
import type { AssetEvent, AssetRegistered } from './asset.events.js';
import {
  ASSET_CATEGORIES,
  SECURITY_PROPERTIES,
  type AssetCategory,
  type AssetState,
  type SecurityProperty,
  type ThreatState,
} from './asset.state.js';

// ---------------------------------------------------------------------------------------------
// Limits and article references
// ---------------------------------------------------------------------------------------------

export const ASSET_NAME_MAX_LENGTH = 200;
export const ASSET_DESCRIPTION_MAX_LENGTH = 10_000;
export const RATING_MIN = 1;
export const RATING_MAX = 3;

/** Stable rule ids (extensions.rule); every inventory rule comes from Art. 14(2). */
export const AssetRules = defineRules({
  ASSET_ALREADY_REGISTERED: 'Art.14(2)',
  ASSET_RETIRED: 'Art.14(2)',
  THREAT_NAME_NOT_UNIQUE: 'Art.14(2)',
  THREAT_ID_NOT_UNIQUE: 'Art.14(2)',
  VULNERABILITY_ID_NOT_UNIQUE: 'Art.14(2)',
  VULNERABILITY_NAME_NOT_UNIQUE: 'Art.14(2)',
  TOO_MANY_THREATS: 'Art.14(2)',
  TOO_MANY_VULNERABILITIES: 'Art.14(2)',
  ASSET_TOO_LARGE: 'Art.14(2)',
});

/**
 * How many threats one asset holds, and vulnerabilities all its threats together: the asset's
 * record (its read model's row, its snapshots, every answer and document naming its threats) is
 * written whole at each change, so its size bounds what one command costs (hostile probe of
 * 2026-12-07, F3: with 2,000 threats of 10,000-character descriptions each further identifyThreat
 * took 1.5 s and held the event loop ~165 ms). An asset's threats are the inventory's view of one
 * system, not a catalogue: split a larger one into the assets it is made of.
 */
export const ASSET_LIMITS = { threats: 200, vulnerabilities: 1_000, textCharacters: 1_000_000 } as const;

/**
 * The characters (UTF-16 code units, as JavaScript counts a string's length) of an asset's threats
 * and vulnerabilities, names and descriptions: the counts alone let an asset at them hold ~48 MB
 * (10,000 emoji per description), each command on it 290-400 ms and 99 aliases of its name 31 s
 * (hostile re-probe of 2026-12-07, B).
 */
function threatText(state: AssetState): number {
  let n = 0;
  for (const t of state.threats) {
    n += t.name.length + t.description.length;
    for (const v of t.vulnerabilities) n += v.name.length + v.description.length;
  }
  return n;
}

function refuseTooLarge(state: AssetState, adding: number): void {
  const held = threatText(state);
  if (held + adding <= ASSET_LIMITS.textCharacters) return;
  throw violation(
    AssetRules.ASSET_TOO_LARGE,
    `Asset ${state.id}'s threats and vulnerabilities hold ${held} characters of names and descriptions; ${adding} more pass the most one asset holds (${ASSET_LIMITS.textCharacters}): shorten the description, or register the parts of the system as assets of their own`,
  );
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

interface AssetCommandBase {
  assetId: string;
  actor: DomainActor;
  /** ISO-8601 instant the command is handled. */
  at: string;
}

export interface RegisterAsset extends AssetCommandBase {
  type: 'RegisterAsset';
  name: string;
  description: string;
  category: AssetCategory;
  department: string;
  managerId: string;
  confidentiality: number;
  integrity: number;
  availability: number;
}

export interface IdentifyThreat extends AssetCommandBase {
  type: 'IdentifyThreat';
  threatId: string;
  name: string;
  description: string;
  affects: SecurityProperty[];
}

export interface IdentifyVulnerability extends AssetCommandBase {
  type: 'IdentifyVulnerability';
  threatId: string;
  vulnerabilityId: string;
  name: string;
  description: string;
}

export interface ReassignAssetManager extends AssetCommandBase {
  type: 'ReassignAssetManager';
  managerId: string;
}

export interface RetireAsset extends AssetCommandBase {
  type: 'RetireAsset';
  reason: string;
  /**
   * Set when the committee decided to AVOID a risk on this asset (Art.17: the asset leaves the
   * inventory), by that decision's own append (or, for one logged before, by the process
   * manager). That decision is the authority, so no asset role is asked of the actor.
   */
  avoidedRiskId?: string;
}

export type AssetCommand = RegisterAsset | IdentifyThreat | IdentifyVulnerability | ReassignAssetManager | RetireAsset;

/** One stream per asset: `asset-<id>`. */
export const assetStreams = streamCategory('asset');

export function assetStreamId(assetId: string): string {
  return assetStreams.streamOf(assetId);
}

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------

export const initialAssetState: AssetState = {
  exists: false,
  id: '',
  version: -1,
  name: '',
  description: '',
  category: 'INFORMATION',
  department: '',
  managerId: '',
  confidentiality: 0,
  integrity: 0,
  availability: 0,
  value: 0,
  status: 'ACTIVE',
  threats: [],
  registeredAt: '',
  registeredBy: '',
  updatedAt: '',
};

/** Asset value = max of the ratings (contract: "value = max"). */
export function assetValue(ratings: { confidentiality: number; integrity: number; availability: number }): number {
  return Math.max(ratings.confidentiality, ratings.integrity, ratings.availability);
}

export function findThreat(state: AssetState, threatId: string): ThreatState | undefined {
  return state.threats.find((t) => t.id === threatId);
}

// ---------------------------------------------------------------------------------------------
// decide
// ---------------------------------------------------------------------------------------------

/**
 * A description is recorded as given (not trimmed, '' when absent), so its length is checked as
 * given: the shared optionalText trims and turns blank into null.
 */
function checkDescription(errors: FieldErrors, field: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') errors.add(field, 'must be a string');
  else if (longerThan(value, ASSET_DESCRIPTION_MAX_LENGTH)) errors.add(field, `must be at most ${ASSET_DESCRIPTION_MAX_LENGTH} characters`);
}

function checkRequired(errors: FieldErrors, field: string, value: unknown): void {
  if (!isNonEmptyText(value)) errors.add(field, 'is required');
}

/** A name (of an asset, a threat, a vulnerability): required, and not made only of invisible code points, which its key ignores. */
function requiredName(errors: FieldErrors, value: unknown): string {
  const name = requiredText(errors, 'name', value, ASSET_NAME_MAX_LENGTH);
  if (name !== '' && nameKey(name) === '') errors.add('name', 'must contain a visible character');
  return name;
}

/** A department: required, and not only code points its key ignores (it would be nobody's department). */
function requiredDepartment(errors: FieldErrors, value: unknown): void {
  checkRequired(errors, 'department', value);
  if (isNonEmptyText(value) && departmentKey(value) === '') errors.add('department', 'must contain a visible character');
}

function checkRating(errors: FieldErrors, field: string, value: unknown): void {
  checkIntIn(errors, field, value, RATING_MIN, RATING_MAX);
}

/** ASSET_MANAGER of the asset's department, or CISO (contract's role table). */
function authorise(actor: DomainActor, department: string, action: string): void {
  if (hasRole(actor, 'CISO')) return;
  if (hasRole(actor, 'ASSET_MANAGER')) {
    if (sameDepartment(actor.department, department)) return;
    throw new ForbiddenError(`An ASSET_MANAGER may ${action} only assets of their own department (${actor.department ?? 'none'})`);
  }
  throw new ForbiddenError(`Only an ASSET_MANAGER of the asset's department or the CISO may ${action} assets`);
}

/** Checks common to every command on an existing asset. */
function requireActiveAsset(command: Exclude<AssetCommand, RegisterAsset>, state: AssetState, action: string): void {
  refuseAuditor(command.actor);
  if (!hasRole(command.actor, 'CISO', 'ASSET_MANAGER')) {
    throw new ForbiddenError(`Only an ASSET_MANAGER of the asset's department or the CISO may ${action} assets`);
  }
  if (!state.exists || state.id !== command.assetId) throw new NotFoundError('Asset', command.assetId);
  authorise(command.actor, state.department, action);
  if (state.status === 'RETIRED' && command.type !== 'RetireAsset') {
    throw violation(AssetRules.ASSET_RETIRED, `Asset ${state.id} was retired on ${state.retiredAt}; it no longer changes`);
  }
}

function decideRegister(c: RegisterAsset, state: AssetState): AssetEvent[] {
  refuseAuditor(c.actor);
  if (!hasRole(c.actor, 'CISO', 'ASSET_MANAGER')) {
    throw new ForbiddenError('Only an ASSET_MANAGER (for their own department) or the CISO may register assets');
  }
  const errors = new FieldErrors();
  const name = requiredName(errors, c.name);
  checkDescription(errors, 'description', c.description);
  if (!(ASSET_CATEGORIES as readonly string[]).includes(c.category)) {
    errors.add('category', `must be one of ${ASSET_CATEGORIES.join(', ')}`);
  }
  requiredDepartment(errors, c.department);
  requiredUserId(errors, 'managerId', c.managerId);
  checkRating(errors, 'confidentiality', c.confidentiality);
  checkRating(errors, 'integrity', c.integrity);
  checkRating(errors, 'availability', c.availability);
  errors.throwIfAny();
  authorise(c.actor, c.department, 'register');

  const data: AssetRegistered['data'] = {
    assetId: c.assetId,
    name,
    description: c.description ?? '',
    category: c.category,
    department: c.department.trim(),
    managerId: c.managerId.trim(),
    confidentiality: c.confidentiality,
    integrity: c.integrity,
    availability: c.availability,
    value: assetValue(c),
    registeredBy: c.actor.id,
    registeredAt: c.at,
  };

  if (state.exists) {
    if (state.status === 'RETIRED') {
      throw violation(AssetRules.ASSET_RETIRED, `Asset ${state.id} is retired`);
    }
    const same =
      state.id === data.assetId &&
      state.name === data.name &&
      state.description === data.description &&
      state.category === data.category &&
      state.department === data.department &&
      state.managerId === data.managerId &&
      state.confidentiality === data.confidentiality &&
      state.integrity === data.integrity &&
      state.availability === data.availability;
    if (same) return [];
    throw violation(AssetRules.ASSET_ALREADY_REGISTERED, `Asset ${state.id} is already registered with different details`);
  }

  return [{ type: 'AssetRegistered', data }];
}

function decideIdentifyThreat(c: IdentifyThreat, state: AssetState): AssetEvent[] {
  requireActiveAsset(c, state, 'identify threats of');
  const errors = new FieldErrors();
  checkRequired(errors, 'threatId', c.threatId);
  const name = requiredName(errors, c.name);
  checkDescription(errors, 'description', c.description);
  const affects: unknown[] = Array.isArray(c.affects) ? c.affects : [];
  if (!Array.isArray(c.affects)) errors.add('affects', 'must be a list of security properties');
  else if (affects.length === 0) errors.add('affects', 'must name at least one security property');
  affects.forEach((p, i) => {
    if (!(SECURITY_PROPERTIES as readonly unknown[]).includes(p)) {
      errors.add(`affects[${i}]`, `must be one of ${SECURITY_PROPERTIES.join(', ')}`);
    } else if (affects.indexOf(p) !== i) {
      errors.add(`affects[${i}]`, `duplicates ${String(p)}`);
    }
  });
  errors.throwIfAny();

  const canonical = SECURITY_PROPERTIES.filter((p) => affects.includes(p));
  const sameName = state.threats.find((t) => nameKey(t.name) === nameKey(name));
  if (sameName) {
    const sameSet = sameName.affects.length === canonical.length && canonical.every((p) => sameName.affects.includes(p));
    // The same threat again is done; with another description it was answered as done too, the
    // description recorded nowhere (the kind of the race probe of 2026-12-06, F1).
    const sameDescription = (c.description ?? '') === sameName.description;
    if (sameSet && sameDescription) return [];
    throw violation(
      AssetRules.THREAT_NAME_NOT_UNIQUE,
      `Asset ${state.id} already has a threat named "${sameName.name}" (${sameName.id}) affecting ${sameName.affects.join(', ')}${sameSet ? ', with another description' : ''}`,
    );
  }
  if (findThreat(state, c.threatId)) {
    throw violation(AssetRules.THREAT_ID_NOT_UNIQUE, `Threat id ${c.threatId} is already used`);
  }
  if (state.threats.length >= ASSET_LIMITS.threats) {
    throw violation(AssetRules.TOO_MANY_THREATS, `Asset ${state.id} has ${state.threats.length} threats, the most one asset holds (${ASSET_LIMITS.threats}): register the parts of the system as assets of their own`);
  }
  refuseTooLarge(state, name.length + (c.description ?? '').length);
  return [
    {
      type: 'ThreatIdentified',
      data: {
        assetId: state.id,
        threatId: c.threatId,
        name,
        description: c.description ?? '',
        affects: canonical,
        identifiedBy: c.actor.id,
        identifiedAt: c.at,
      },
    },
  ];
}

function decideIdentifyVulnerability(c: IdentifyVulnerability, state: AssetState): AssetEvent[] {
  requireActiveAsset(c, state, 'identify vulnerabilities of');
  const errors = new FieldErrors();
  checkRequired(errors, 'threatId', c.threatId);
  checkRequired(errors, 'vulnerabilityId', c.vulnerabilityId);
  const name = requiredName(errors, c.name);
  checkDescription(errors, 'description', c.description);
  errors.throwIfAny();

  const threat = findThreat(state, c.threatId);
  if (!threat) throw new NotFoundError('Threat', c.threatId);
  const sameName = threat.vulnerabilities.find((v) => nameKey(v.name) === nameKey(name));
  if (sameName && sameName.description === (c.description ?? '')) return [];
  if (sameName) {
    throw violation(
      AssetRules.VULNERABILITY_NAME_NOT_UNIQUE,
      `Threat ${threat.id} of asset ${state.id} already has a vulnerability named "${sameName.name}" (${sameName.id}), with another description`,
    );
  }
  if (state.threats.some((t) => t.vulnerabilities.some((v) => v.id === c.vulnerabilityId))) {
    throw violation(AssetRules.VULNERABILITY_ID_NOT_UNIQUE, `Vulnerability id ${c.vulnerabilityId} is already used`);
  }
  const held = state.threats.reduce((n, t) => n + t.vulnerabilities.length, 0);
  if (held >= ASSET_LIMITS.vulnerabilities) {
    throw violation(AssetRules.TOO_MANY_VULNERABILITIES, `Asset ${state.id}'s threats have ${held} vulnerabilities, the most one asset holds (${ASSET_LIMITS.vulnerabilities}): register the parts of the system as assets of their own`);
  }
  refuseTooLarge(state, name.length + (c.description ?? '').length);
  return [
    {
      type: 'VulnerabilityIdentified',
      data: {
        assetId: state.id,
        threatId: threat.id,
        vulnerabilityId: c.vulnerabilityId,
        name,
        description: c.description ?? '',
        identifiedBy: c.actor.id,
        identifiedAt: c.at,
      },
    },
  ];
}

function decideReassign(c: ReassignAssetManager, state: AssetState): AssetEvent[] {
  requireActiveAsset(c, state, 'reassign the manager of');
  const errors = new FieldErrors();
  requiredUserId(errors, 'managerId', c.managerId);
  errors.throwIfAny();
  const managerId = c.managerId.trim();
  if (managerId === state.managerId) return [];
  return [
    {
      type: 'AssetManagerReassigned',
      data: { assetId: state.id, previousManagerId: state.managerId, managerId, reassignedBy: c.actor.id, reassignedAt: c.at },
    },
  ];
}

function decideRetire(c: RetireAsset, state: AssetState): AssetEvent[] {
  if (c.avoidedRiskId === undefined) requireActiveAsset(c, state, 'retire');
  else if (!state.exists || state.id !== c.assetId) throw new NotFoundError('Asset', c.assetId);
  const errors = new FieldErrors();
  const reason = requiredText(errors, 'reason', c.reason, ASSET_DESCRIPTION_MAX_LENGTH);
  errors.throwIfAny();
  if (state.status === 'RETIRED') {
    // Retired already: the same retirement again is satisfied; another reason would be answered as
    // done and recorded nowhere, as a plan closed again for another reason was (contract probe of
    // 2026-12-06, L1). A risk avoided since (the reaction retiring its assets) finds it done.
    if (c.avoidedRiskId === undefined && state.retirementReason !== undefined && state.retirementReason !== reason) {
      throw violation(AssetRules.ASSET_RETIRED, `Asset ${state.id} was retired at ${state.retiredAt} for another reason: that retirement stands`);
    }
    return [];
  }
  return [
    {
      type: 'AssetRetired',
      data: { assetId: state.id, reason, retiredBy: c.actor.id, retiredAt: c.at, ...(c.avoidedRiskId ? { avoidedRiskId: c.avoidedRiskId } : {}) },
    },
  ];
}

export function decideAsset(command: AssetCommand, state: AssetState): AssetEvent[] {
  switch (command.type) {
    case 'RegisterAsset':
      return decideRegister(command, state);
    case 'IdentifyThreat':
      return decideIdentifyThreat(command, state);
    case 'IdentifyVulnerability':
      return decideIdentifyVulnerability(command, state);
    case 'ReassignAssetManager':
      return decideReassign(command, state);
    case 'RetireAsset':
      return decideRetire(command, state);
    default: {
      const unknown: never = command;
      throw new Error(`Unknown asset command ${(unknown as { type: string }).type}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// evolve
// ---------------------------------------------------------------------------------------------

export function evolveAsset(state: AssetState, event: AssetEvent): AssetState {
  const version = state.version + 1;
  switch (event.type) {
    case 'AssetRegistered': {
      const d = event.data;
      return {
        ...state,
        exists: true,
        id: d.assetId,
        version,
        name: d.name,
        description: d.description,
        category: d.category,
        department: d.department,
        managerId: d.managerId,
        confidentiality: d.confidentiality,
        integrity: d.integrity,
        availability: d.availability,
        value: d.value,
        status: 'ACTIVE',
        threats: [],
        registeredAt: d.registeredAt,
        registeredBy: d.registeredBy,
        updatedAt: d.registeredAt,
      };
    }
    case 'ThreatIdentified': {
      const d = event.data;
      const threat: ThreatState = {
        id: d.threatId,
        name: d.name,
        description: d.description,
        affects: [...d.affects],
        identifiedAt: d.identifiedAt,
        identifiedBy: d.identifiedBy,
        vulnerabilities: [],
      };
      return { ...state, version, threats: [...state.threats, threat], updatedAt: d.identifiedAt };
    }
    case 'VulnerabilityIdentified': {
      const d = event.data;
      return {
        ...state,
        version,
        threats: state.threats.map((t) =>
          t.id === d.threatId
            ? {
                ...t,
                vulnerabilities: [
                  ...t.vulnerabilities,
                  { id: d.vulnerabilityId, name: d.name, description: d.description, identifiedAt: d.identifiedAt, identifiedBy: d.identifiedBy },
                ],
              }
            : t,
        ),
        updatedAt: d.identifiedAt,
      };
    }
    case 'AssetManagerReassigned':
      return { ...state, version, managerId: event.data.managerId, updatedAt: event.data.reassignedAt };
    case 'AssetRetired':
      return {
        ...state,
        version,
        status: 'RETIRED',
        retiredAt: event.data.retiredAt,
        retirementReason: event.data.reason,
        updatedAt: event.data.retiredAt,
      };
    default:
      // An event type this build does not know: it still counts as a revision of the stream.
      return { ...state, version };
  }
}

export const assetDecider: Decider<AssetCommand, AssetEvent, AssetState> = {
  // Snapshots of this state are kept under this version: bump it whenever the state's shape (or what evolve folds into it) changes.
  stateVersion: 'asset/1',
  decide: decideAsset,
  evolve: evolveAsset,
  initialState: initialAssetState,
  // A vulnerability is identified under one of the asset's threats.
  subjectOf: (c) => (c.type === 'IdentifyVulnerability' ? c.threatId : undefined),
};
