/**
 * The organisation's context (Art. 12(1)): one stream, each record a new version. Recording the
 * same content as the version in force is already satisfied (no new version).
 */
import { nameKey } from '../../shared/domain/name-key.js';
import type { Decider, DomainActor } from '../../shared/domain/decider.js';
import { FieldErrors } from '../../shared/domain/errors.js';
import { isNonEmptyText, longerThan, requiredText, requireRole } from '../../shared/domain/guards.js';
import type { ContextEvent } from './context.events.js';
import { CONTEXT_ID, currentContext, type ContextState, type ContextVersion } from './context.state.js';

export const CONTEXT_LIMITS = {
  period: 50,
  scope: 10_000,
  /** Each issue or party. */
  item: 10_000,
  /** Items per list. */
  items: 200,
} as const;

export interface RecordContext {
  type: 'RecordContext';
  actor: DomainActor;
  /** ISO-8601 instant the command is handled. */
  at: string;
  period: string;
  scope: string;
  internalIssues: string[];
  externalIssues: string[];
  interestedParties: string[];
}

export type ContextCommand = RecordContext;

export const initialContextState: ContextState = { version: 0, versions: [] };

/**
 * A list of 1 to `items` texts, each trimmed, non-empty, at most `item` characters, none repeated.
 * Two items are one when they are one as asset names are (`nameKey`: NFKC, case and whitespace
 * folded, invisible code points ignored): `x`, `X` and fullwidth `ｘ` repeat each other (auditor
 * finding F10.2). The items are kept as written.
 */
function itemList(errors: FieldErrors, field: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    errors.add(field, 'must list at least one item');
    return [];
  }
  if (value.length > CONTEXT_LIMITS.items) errors.add(field, `must have at most ${CONTEXT_LIMITS.items} items`);
  const out: string[] = [];
  const firstOf = new Map<string, number>();
  value.forEach((v, i) => {
    if (!isNonEmptyText(v)) return errors.add(`${field}[${i}]`, 'must be a non-empty string');
    const text = v.trim();
    if (longerThan(text, CONTEXT_LIMITS.item)) errors.add(`${field}[${i}]`, `must be at most ${CONTEXT_LIMITS.item} characters`);
    const key = nameKey(text);
    const first = firstOf.get(key);
    if (first === undefined) firstOf.set(key, i);
    else errors.add(`${field}[${i}]`, `repeats ${field}[${first}] (items are compared ignoring case, width and spacing: Unicode NFKC)`);
    out.push(text);
  });
  return out;
}

type Content = Pick<ContextVersion, 'period' | 'scope' | 'internalIssues' | 'externalIssues' | 'interestedParties'>;

function validate(c: RecordContext): Content {
  const errors = new FieldErrors();
  const content: Content = {
    period: requiredText(errors, 'period', c.period, CONTEXT_LIMITS.period),
    scope: requiredText(errors, 'scope', c.scope, CONTEXT_LIMITS.scope),
    internalIssues: itemList(errors, 'internalIssues', c.internalIssues),
    externalIssues: itemList(errors, 'externalIssues', c.externalIssues),
    interestedParties: itemList(errors, 'interestedParties', c.interestedParties),
  };
  errors.throwIfAny();
  return content;
}

function sameContent(a: Content, b: Content): boolean {
  const same = (x: string[], y: string[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return a.period === b.period && a.scope === b.scope && same(a.internalIssues, b.internalIssues) && same(a.externalIssues, b.externalIssues) && same(a.interestedParties, b.interestedParties);
}

export function decideContext(c: ContextCommand, state: ContextState): ContextEvent[] {
  switch (c.type) {
    case 'RecordContext': {
      requireRole(c.actor, ['COMMITTEE_MEMBER', 'CISO'], 'record the organisation\'s context (Art.12(1))');
      const content = validate(c);
      const current = currentContext(state);
      // The same content again (a retry, a second client): the version in force already says it.
      if (current && sameContent(current, content)) return [];
      return [{ type: 'ContextRecorded', data: { contextId: CONTEXT_ID, version: state.version + 1, ...content, recordedBy: c.actor.id, recordedAt: c.at } }];
    }
    default: {
      const unknown: never = c.type;
      throw new Error(`Unknown context command ${String(unknown)}`);
    }
  }
}

export function evolveContext(state: ContextState, event: ContextEvent): ContextState {
  switch (event.type) {
    case 'ContextRecorded': {
      const { contextId: _id, ...version } = event.data;
      return { version: version.version, versions: [...state.versions, version] };
    }
    default:
      return state;
  }
}

export const contextDecider: Decider<ContextCommand, ContextEvent, ContextState> = {
  // Snapshots of this state are kept under this version: bump it whenever the state's shape (or what evolve folds into it) changes.
  stateVersion: 'context/1',
  decide: decideContext,
  evolve: evolveContext,
  initialState: initialContextState,
};
