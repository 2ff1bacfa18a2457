/**
 * A decider (as in Emmett, Equinox, Eventuous): the whole behaviour of one aggregate as pure
 * functions. No Nest, no I/O, no clock, no random ids: time and new ids arrive in the command.
 * `decide` throws a DomainError (see errors.ts) to reject a command; it returns [] when the
 * command is already satisfied, which makes retries idempotent by construction.
 */
export interface DomainEvent<TType extends string = string, TData extends object = object> {
  type: TType;
  data: TData;
}

export interface Decider<Command, Event extends DomainEvent, State> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState: State;
  /**
   * Shape version of State (e.g. 'risk/1'), under which its snapshots are stored beside the log.
   * Bump it whenever the state's shape or the meaning of a field changes (evolve folds differently):
   * older snapshots are then ignored. States must be plain JSON. Without one, never snapshotted.
   */
  stateVersion?: string;
  /**
   * The part of the entity a command acts on, where one stream holds several (a plan's item: its
   * risk; a risk's control), or where the stream follows from ids the client names (an entity's
   * notes: the entity, and the file attached); several ids joined by '/'; or undefined. Recorded beside a client's commandId
   * (metadata.commandSubject): a key used again for the same command on another subject is refused,
   * not answered with the first one's result (retried-key.ts).
   */
  subjectOf?(command: Command): string | undefined;
  /**
   * The kind of command recorded beside a client's commandId (metadata.commandType), where one
   * command type carries answers of different kinds: `RecordResidualConsent/accepted` or
   * `/declined`, `RecordBoardResolution/APPROVED` or `/REJECTED`; undefined: the command's type.
   * A key used again for the other answer is refused, not answered with the first one's result
   * (race probe 10-a F1: a decline, then an accept under one key, answered the accept as done).
   */
  kindOf?(command: Command): string | undefined;
}

/** Folds events into a state. */
export function fold<E extends DomainEvent, S>(decider: Pick<Decider<unknown, E, S>, 'evolve' | 'initialState'>, events: E[], from?: S): S {
  return events.reduce((s, e) => decider.evolve(s, e), from ?? decider.initialState);
}

/**
 * The actor as the domain sees it (from the bearer token). Read-only: the token verifier hands
 * the same frozen actor to every request made with one token (token-verifier.ts), so a write to
 * it would be a TypeError at run time; the type makes it a compile error.
 */
export interface DomainActor {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  readonly department?: string;
}

export const ROLES = [
  'ASSET_MANAGER',
  'RISK_OWNER',
  'COMMITTEE_MEMBER',
  'CISO',
  'BOARD_SECRETARY',
  'AUDITOR',
  'ADMIN',
] as const;
export type Role = (typeof ROLES)[number];
