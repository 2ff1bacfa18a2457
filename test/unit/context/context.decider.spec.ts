import { contextDecider, type RecordContext } from '../../../src/context/domain/context.decider.js';
import { contextEventSchemaVersions, upcastContextEvent, type ContextRecorded } from '../../../src/context/domain/context.events.js';
import { CONTEXT_ID, currentContext } from '../../../src/context/domain/context.state.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';
import { ForbiddenError } from '../../../src/shared/domain/errors.js';
import { given } from '../support/given-when-then.js';

const T0 = '2026-04-01T01:00:00.000Z';
const T1 = '2026-10-01T01:00:00.000Z';
const committee: DomainActor = { id: 'u-com', name: 'Kenji', roles: ['COMMITTEE_MEMBER'] };
const ciso: DomainActor = { id: 'u-ciso', name: 'Chika', roles: ['CISO'] };

const record = (over: Partial<RecordContext> = {}): RecordContext => ({
  type: 'RecordContext',
  actor: committee,
  at: T0,
  period: 'FY2026',
  scope: 'Custody and trading of crypto assets for retail customers',
  internalIssues: ['Hot-wallet signing in one data centre', 'Two engineers hold the key ceremony knowledge'],
  externalIssues: ['JVCEA Rules on Information Security Management', 'Phishing of exchange staff'],
  interestedParties: ['Customers', 'FSA', 'JVCEA'],
  ...over,
});

const recorded = (version: number, over: Partial<ContextRecorded['data']> = {}): ContextRecorded => ({
  type: 'ContextRecorded',
  data: {
    contextId: CONTEXT_ID,
    version,
    period: 'FY2026',
    scope: 'Custody and trading of crypto assets for retail customers',
    internalIssues: ['Hot-wallet signing in one data centre', 'Two engineers hold the key ceremony knowledge'],
    externalIssues: ['JVCEA Rules on Information Security Management', 'Phishing of exchange staff'],
    interestedParties: ['Customers', 'FSA', 'JVCEA'],
    recordedBy: 'u-com',
    recordedAt: T0,
    ...over,
  },
});

describe('recordContext (Art.12(1))', () => {
  it('records the first version, trimmed', () => {
    given(contextDecider, [])
      .when(record({ period: ' FY2026 ', internalIssues: [' Hot-wallet signing in one data centre ', 'Two engineers hold the key ceremony knowledge'] }))
      .then([recorded(1)]);
  });

  it('records a changed context as the next version; the newest is in force and the older ones stay', () => {
    const { state } = given(contextDecider, [recorded(1)])
      .when(record({ actor: ciso, at: T1, externalIssues: ['JVCEA Rules on Information Security Management', 'A peer exchange lost hot-wallet funds'] }))
      .then([recorded(2, { externalIssues: ['JVCEA Rules on Information Security Management', 'A peer exchange lost hot-wallet funds'], recordedBy: 'u-ciso', recordedAt: T1 })]);
    expect(state.version).toBe(2);
    expect(state.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(currentContext(state)?.externalIssues[1]).toBe('A peer exchange lost hot-wallet funds');
  });

  it('the same content as the version in force is already satisfied, whoever sends it', () => {
    given(contextDecider, [recorded(1)]).when(record({ actor: ciso, at: T1 })).thenNothing();
  });

  it('an earlier content again (a revert) is a new version', () => {
    given(contextDecider, [recorded(1), recorded(2, { period: 'FY2027' })])
      .when(record({ at: T1 }))
      .thenMatches([{ type: 'ContextRecorded', data: { version: 3, period: 'FY2026' } }]);
  });

  it('names every field that is wrong', () => {
    const error = given(contextDecider, [])
      .when(record({ period: '', scope: 'x'.repeat(10_001), internalIssues: [], externalIssues: ['a', ' a '], interestedParties: ['ok', ''] }))
      .thenRejectsFields('period', 'scope', 'internalIssues', 'externalIssues[1]', 'interestedParties[1]');
    expect(error.fields['externalIssues[1]']).toMatch(/repeats externalIssues\[0\]/);
  });

  it('finds repeats as asset names are compared: case, width and spacing folded (auditor finding F10.2)', () => {
    const error = given(contextDecider, [])
      .when(
        record({
          internalIssues: ['x', 'X'],
          externalIssues: ['ｘ', 'x'],
          interestedParties: ['Financial  Services Agency', 'ＦＩＮＡＮＣＩＡＬ services agency', '', 'JVCEA', 'jvcea'],
        }),
      )
      .thenRejectsFields('internalIssues[1]', 'externalIssues[1]', 'interestedParties[1]', 'interestedParties[2]', 'interestedParties[4]');
    expect(error.fields['internalIssues[1]']).toMatch(/^repeats internalIssues\[0\]/);
    expect(error.fields['externalIssues[1]']).toMatch(/^repeats externalIssues\[0\]/);
    expect(error.fields['interestedParties[1]']).toMatch(/^repeats interestedParties\[0\]/);
    // The index named is the repeated item's own, also after an item that was refused.
    expect(error.fields['interestedParties[4]']).toMatch(/^repeats interestedParties\[3\]/);
    expect(Object.keys(error.fields).sort()).toEqual(['externalIssues[1]', 'interestedParties[1]', 'interestedParties[2]', 'interestedParties[4]', 'internalIssues[1]']);
  });

  it('keeps items that differ by more than case, width and spacing, as written', () => {
    given(contextDecider, [])
      .when(record({ interestedParties: ['Customers', 'Customer', 'FSA (金融庁)', 'Ｗallet-1', 'Wallet1'] }))
      .then([recorded(1, { interestedParties: ['Customers', 'Customer', 'FSA (金融庁)', 'Ｗallet-1', 'Wallet1'] })]);
  });

  it('only a committee member or the CISO records it; an auditor never', () => {
    for (const actor of [
      { id: 'o', name: 'O', roles: ['RISK_OWNER'] },
      { id: 's', name: 'S', roles: ['BOARD_SECRETARY'] },
      { id: 'a', name: 'A', roles: ['AUDITOR'] },
      { id: 'x', name: 'X', roles: ['AUDITOR', 'CISO'] },
    ] as DomainActor[]) {
      given(contextDecider, []).when(record({ actor })).thenThrows(ForbiddenError);
    }
  });

  it('knows its event schema', () => {
    expect(contextEventSchemaVersions).toEqual({ ContextRecorded: 1 });
    expect(upcastContextEvent('ContextRecorded', 1, recorded(1).data)).toEqual(recorded(1));
    expect(() => upcastContextEvent('ContextRecorded', 2, {})).toThrow(/Unsupported schema version/);
  });
});
