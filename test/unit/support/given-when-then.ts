/**
 * A tiny given/when/then harness for deciders (src/shared/domain/decider.ts).
 *
 *   given(assetDecider, [registered]).when(retire).then([retiredEvent]);
 *   given(assetDecider, []).when(badCommand).thenThrows(BadInputError, { fields: { name: expect.any(String) } });
 *   given(assetDecider, [registered, retired]).when(retire).thenNothing();
 *
 * `then` / `thenNothing` return `{ events, state }` (the decided events and the state after
 * folding them), `thenThrows` returns the error, so a test can go on asserting.
 *
 * Do not `await` or `return` the result of `when(...)` from a test: it has a `then` method,
 * so JavaScript would take it for a promise. The harness detects that and fails loudly.
 */
import { fold, type Decider, type DomainEvent } from '../../../src/shared/domain/decider.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ErrorClass<T extends Error> = abstract new (...args: any[]) => T;

export interface Outcome<E, S> {
  events: E[];
  state: S;
}

export interface When<E extends DomainEvent, S> {
  /** The command yields exactly these events (deep equality, in order). */
  then(expected: E[]): Outcome<E, S>;
  /** The command yields events whose data match these partial shapes (toMatchObject), in order. */
  thenMatches(expected: Array<{ type: E['type']; data?: Record<string, unknown> }>): Outcome<E, S>;
  /** The command is rejected with an instance of `errorClass` whose own fields match `partial`. */
  thenThrows<T extends Error>(errorClass: ErrorClass<T>, partial?: Record<string, unknown>): T;
  /** The command is rejected with a BadInputError whose `fields` has (at least) these keys. */
  thenRejectsFields(...fieldKeys: string[]): Error & { fields: Record<string, string> };
  /** The command is already satisfied: it yields no event. */
  thenNothing(): Outcome<E, S>;
}

export interface Given<C, E extends DomainEvent, S> {
  /** The state folded from the given events. */
  readonly state: S;
  when(command: C): When<E, S>;
}

export function given<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, events: E[] = [], from?: S): Given<C, E, S> {
  const state = fold(decider, events, from);
  return {
    state,
    when(command: C): When<E, S> {
      const run = (): Outcome<E, S> => {
        const decided = decider.decide(command, state);
        return { events: decided, state: fold(decider, decided, state) };
      };
      const capture = (): unknown => {
        try {
          const decided = decider.decide(command, state);
          return { __noThrow: decided };
        } catch (error) {
          return error;
        }
      };
      return {
        then(expected: E[]): Outcome<E, S> {
          if (typeof expected === 'function') {
            throw new Error('given(...).when(...) is not a promise: do not await or return it; call .then([...events]) instead');
          }
          const outcome = run();
          expect(outcome.events).toEqual(expected);
          return outcome;
        },
        thenMatches(expected) {
          const outcome = run();
          expect(outcome.events).toHaveLength(expected.length);
          expect(outcome.events).toMatchObject(expected);
          return outcome;
        },
        thenThrows<T extends Error>(errorClass: ErrorClass<T>, partial?: Record<string, unknown>): T {
          const error = capture();
          if (error && typeof error === 'object' && '__noThrow' in error) {
            throw new Error(
              `Expected ${errorClass.name} but the command was accepted with events ${JSON.stringify((error as { __noThrow: unknown }).__noThrow)}`,
            );
          }
          expect(error).toBeInstanceOf(errorClass);
          if (partial) expect(error).toMatchObject(partial);
          return error as T;
        },
        thenRejectsFields(...fieldKeys: string[]) {
          const error = capture();
          if (error && typeof error === 'object' && '__noThrow' in error) {
            throw new Error(`Expected a BadInputError on ${fieldKeys.join(', ')} but the command was accepted`);
          }
          expect(error).toBeInstanceOf(Error);
          expect(error).toHaveProperty('code', 'BAD_USER_INPUT');
          const fields = (error as { fields: Record<string, string> }).fields;
          expect(Object.keys(fields)).toEqual(expect.arrayContaining(fieldKeys));
          return error as Error & { fields: Record<string, string> };
        },
        thenNothing(): Outcome<E, S> {
          const outcome = run();
          expect(outcome.events).toEqual([]);
          return outcome;
        },
      };
    },
  };
}
