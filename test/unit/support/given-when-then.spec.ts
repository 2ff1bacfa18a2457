import type { Decider } from '../../../src/shared/domain/decider.js';
import { BadInputError, NotFoundError } from '../../../src/shared/domain/errors.js';
import { given } from './given-when-then.js';

// A counter that rejects negative steps, to check the harness itself fails when it should.
type Cmd = { type: 'Add'; by: number };
type Ev = { type: 'Added'; data: { by: number } };
const counter: Decider<Cmd, Ev, { total: number; version: number }> = {
  initialState: { total: 0, version: -1 },
  decide: (c) => {
    if (c.by < 0) throw new BadInputError({ by: 'must not be negative' });
    return c.by === 0 ? [] : [{ type: 'Added', data: { by: c.by } }];
  },
  evolve: (s, e) => ({ total: s.total + e.data.by, version: s.version + 1 }),
};

describe('given/when/then harness', () => {
  it('folds the given events and returns the state after the decided events', () => {
    const { state } = given(counter, [{ type: 'Added', data: { by: 2 } }]).when({ type: 'Add', by: 3 }).then([{ type: 'Added', data: { by: 3 } }]);
    expect(state).toEqual({ total: 5, version: 1 });
  });

  it('fails then() on different events', () => {
    expect(() => given(counter).when({ type: 'Add', by: 3 }).then([{ type: 'Added', data: { by: 4 } }])).toThrow();
  });

  it('fails thenNothing() when events are decided', () => {
    expect(() => given(counter).when({ type: 'Add', by: 1 }).thenNothing()).toThrow();
    given(counter).when({ type: 'Add', by: 0 }).thenNothing();
  });

  it('fails thenThrows() when the command is accepted, or with another error class or fields', () => {
    expect(() => given(counter).when({ type: 'Add', by: 1 }).thenThrows(BadInputError)).toThrow(/accepted/);
    expect(() => given(counter).when({ type: 'Add', by: -1 }).thenThrows(NotFoundError)).toThrow();
    expect(() => given(counter).when({ type: 'Add', by: -1 }).thenThrows(BadInputError, { fields: { other: expect.any(String) } })).toThrow();
    const err = given(counter).when({ type: 'Add', by: -1 }).thenThrows(BadInputError, { fields: { by: 'must not be negative' } });
    expect(err.fields).toEqual({ by: 'must not be negative' });
  });

  it('thenRejectsFields() checks the field keys', () => {
    given(counter).when({ type: 'Add', by: -1 }).thenRejectsFields('by');
    expect(() => given(counter).when({ type: 'Add', by: -1 }).thenRejectsFields('other')).toThrow();
  });

  it('refuses to be used as a promise', () => {
    const when = given(counter).when({ type: 'Add', by: 1 });
    expect(() => (when.then as unknown as (f: () => void) => void)(() => undefined)).toThrow(/not a promise/);
  });
});
