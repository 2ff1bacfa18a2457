/**
 * Following the plan through (Art.18, 19, 12(3)): the control lifecycle, `overdue`, and the
 * deadlines recorded once by the decider (ControlBecameOverdue, RiskReviewBecameDue).
 */
import { ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { CONTROL_STATUSES, CONTROL_TRANSITIONS, isControlOverdue, isControlOverdueOn, overdueControlsOf, progressOf, type ControlStatus } from '../../../src/risk-register/domain/control-lifecycle.js';
import { dayInJapan } from '../../../src/shared/domain/guards.js';
import { overdueControlRefs } from '../../../src/risk-register/application/control-queries.js';
import type { RiskState } from '../../../src/risk-register/domain/risk.state.js';
import { turnsDuring } from '../../support/turns.js';
import type { RecordControlProgress, RecordPassedDeadlines } from '../../../src/risk-register/domain/risk.commands.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import type { RiskEvent } from '../../../src/risk-register/domain/risk.events.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';
import { given } from '../support/given-when-then.js';
import { hasUnrecordedDeadline } from '../../../src/risk-register/application/deadline-watch.js';
import {
  PRINTER_RISK,
  RISK,
  acceptedEvents,
  awaitingConsentEvents,
  analyseInformal,
  continueHistory,
  control,
  controlsDecidedEvents,
  decideControls,
  decideTreatment,
  evaluate,
  history,
  identifyPrinter,
  printerRetainedEvents,
  review,
  stateOf,
} from './builders.js';
import { T2, T3, auditor, ciso, committee, criteriaV1, owner, printer } from './fixtures.js';

const CONTROL = 'ctl-multisig';
/** The owner of control() in builders.ts. */
const controlOwner: DomainActor = { id: 'u-custody-lead', name: 'Custody Lead', roles: ['RISK_OWNER'] };
const ownerWhoIsCiso: DomainActor = { id: 'u-custody-lead', name: 'Custody Lead', roles: ['CISO'] };
const ciso2: DomainActor = { id: 'u-ciso2', name: 'Deputy CISO', roles: ['CISO'] };

const progress = (status: ControlStatus, over: Partial<RecordControlProgress> = {}): RecordControlProgress => ({
  type: 'RecordControlProgress',
  riskId: RISK,
  controlId: CONTROL,
  status,
  actor: controlOwner,
  at: T3,
  ...over,
});

const deadlines = (at: string, over: Partial<RecordPassedDeadlines> = {}): RecordPassedDeadlines => ({
  type: 'RecordPassedDeadlines',
  riskId: RISK,
  actor: { id: 'system:deadline-watch', name: 'watch', roles: [] },
  at,
  criteria: criteriaV1,
  ...over,
});

const after = (...commands: Array<RecordControlProgress | RecordPassedDeadlines>): RiskEvent[] => continueHistory(controlsDecidedEvents(), ...commands);
const implemented = () => after(progress('IN_PROGRESS', { progressPercent: 40 }), progress('IMPLEMENTED'));
const verified = () => continueHistory(implemented(), progress('VERIFIED', { actor: committee }));
const cancelled = () => after(progress('CANCELLED', { actor: committee, note: 'Replaced by an HSM' }));

describe('RecordControlProgress (Art.18, 19)', () => {
  it('a decided control starts PLANNED at 0%', () => {
    const { state } = given(riskDecider, controlsDecidedEvents()).when(progress('PLANNED')).thenNothing();
    expect(progressOf(state, CONTROL)).toMatchObject({ status: 'PLANNED', progressPercent: 0 });
  });

  it('PLANNED -> IN_PROGRESS records the status, the percentage, the note and the evidence', () => {
    const { state } = given(riskDecider, controlsDecidedEvents())
      .when(progress('IN_PROGRESS', { progressPercent: 30, note: 'Keys ordered', evidence: [{ evidenceId: 'ev-1', sha256: 'a'.repeat(64) }] }))
      .then([
        {
          type: 'ControlProgressRecorded',
          data: {
            riskId: RISK,
            controlId: CONTROL,
            status: 'IN_PROGRESS',
            previousStatus: 'PLANNED',
            progressPercent: 30,
            note: 'Keys ordered',
            evidence: [{ evidenceId: 'ev-1', sha256: 'a'.repeat(64) }],
            recordedBy: controlOwner.id,
            recordedAt: T3,
          },
        },
      ]);
    expect(progressOf(state, CONTROL)).toMatchObject({ status: 'IN_PROGRESS', progressPercent: 30, note: 'Keys ordered', evidence: [{ evidenceId: 'ev-1' }] });
    expect(state.status).toBe('CONTROLS_DECIDED');
    expect(state.version).toBe(controlsDecidedEvents().length);
  });

  it('IN_PROGRESS -> IN_PROGRESS records new progress; the same record again is already satisfied', () => {
    const events = after(progress('IN_PROGRESS', { progressPercent: 30 }));
    given(riskDecider, events).when(progress('IN_PROGRESS', { progressPercent: 60 })).thenMatches([{ type: 'ControlProgressRecorded', data: { previousStatus: 'IN_PROGRESS', progressPercent: 60 } }]);
    given(riskDecider, events).when(progress('IN_PROGRESS', { progressPercent: 30 })).thenNothing();
    // Omitted, the percentage is kept: nothing new.
    given(riskDecider, events).when(progress('IN_PROGRESS')).thenNothing();
    // A new note or new evidence is something new.
    given(riskDecider, events).when(progress('IN_PROGRESS', { note: 'Waiting for the vendor' })).thenMatches([{ type: 'ControlProgressRecorded', data: { progressPercent: 30 } }]);
    given(riskDecider, events)
      .when(progress('IN_PROGRESS', { evidence: [{ evidenceId: 'ev-2', sha256: 'b'.repeat(64) }] }))
      .thenMatches([{ type: 'ControlProgressRecorded' }]);
  });

  it('PLANNED -> IMPLEMENTED (at 100%) and IN_PROGRESS -> IMPLEMENTED', () => {
    given(riskDecider, controlsDecidedEvents()).when(progress('IMPLEMENTED')).thenMatches([{ type: 'ControlProgressRecorded', data: { status: 'IMPLEMENTED', progressPercent: 100 } }]);
    const { state } = given(riskDecider, after(progress('IN_PROGRESS', { progressPercent: 50 })))
      .when(progress('IMPLEMENTED', { progressPercent: 100 }))
      .thenMatches([{ type: 'ControlProgressRecorded', data: { status: 'IMPLEMENTED', previousStatus: 'IN_PROGRESS', progressPercent: 100 } }]);
    expect(progressOf(state, CONTROL).implementedBy).toBe(controlOwner.id);
  });

  it('IMPLEMENTED -> VERIFIED by a committee member who is neither the owner nor the implementer; then final', () => {
    given(riskDecider, implemented()).when(progress('VERIFIED', { actor: committee })).thenMatches([{ type: 'ControlProgressRecorded', data: { status: 'VERIFIED', progressPercent: 100, recordedBy: committee.id } }]);
    given(riskDecider, verified()).when(progress('VERIFIED', { actor: ciso })).thenNothing();
  });

  it('IMPLEMENTED -> IN_PROGRESS reopens a control found not to work, with a note', () => {
    given(riskDecider, implemented()).when(progress('IN_PROGRESS', { actor: committee, progressPercent: 80, note: 'Second key not yet separated' })).thenMatches([
      { type: 'ControlProgressRecorded', data: { status: 'IN_PROGRESS', previousStatus: 'IMPLEMENTED', progressPercent: 80 } },
    ]);
    given(riskDecider, implemented()).when(progress('IN_PROGRESS', { actor: committee })).thenRejectsFields('note');
  });

  it('PLANNED or IN_PROGRESS -> CANCELLED with a reason, by the committee; then final', () => {
    const { state } = given(riskDecider, controlsDecidedEvents())
      .when(progress('CANCELLED', { actor: ciso, note: 'Replaced by an HSM' }))
      .thenMatches([{ type: 'ControlProgressRecorded', data: { status: 'CANCELLED', progressPercent: 0, note: 'Replaced by an HSM' } }]);
    expect(progressOf(state, CONTROL).status).toBe('CANCELLED');
    given(riskDecider, after(progress('IN_PROGRESS', { progressPercent: 40 })))
      .when(progress('CANCELLED', { actor: committee, note: 'Out of budget' }))
      .thenMatches([{ type: 'ControlProgressRecorded', data: { status: 'CANCELLED', progressPercent: 40 } }]);
    given(riskDecider, cancelled()).when(progress('CANCELLED', { actor: committee, note: 'Replaced by an HSM' })).thenNothing();
    given(riskDecider, cancelled()).when(progress('CANCELLED', { actor: committee })).thenNothing();
  });

  it('a final status sent again with another note or new evidence is refused, the record standing: it was answered as done, the note or evidence recorded nowhere', () => {
    given(riskDecider, cancelled())
      .when(progress('CANCELLED', { actor: committee, note: 'Another reason' }))
      .thenThrows(RuleViolationError, { rule: 'CONTROL_FINAL', article: 'Art.18', message: expect.stringMatching(/is CANCELLED already \(Replaced by an HSM\): its record is final, and another note is not added to it/) });
    given(riskDecider, verified())
      .when(progress('VERIFIED', { actor: ciso, evidence: [{ evidenceId: 'ev-9', sha256: 'b'.repeat(64) }] }))
      .thenThrows(RuleViolationError, { rule: 'CONTROL_FINAL', message: expect.stringMatching(/is VERIFIED already: its record is final, and evidence is not added to it/) });
  });

  it('cancelling a control of a risk whose owner accepted (or is asked to accept) the residual risk makes that consent stale: what it rested on is given up (auditor probe F5); progress does not', () => {
    for (const before of [acceptedEvents(), awaitingConsentEvents()]) {
      const { state } = given(riskDecider, before)
        .when(progress('CANCELLED', { actor: committee, note: 'Replaced by multi-sig' }))
        .thenMatches([{ type: 'ControlProgressRecorded', data: { status: 'CANCELLED' } }, { type: 'ResidualConsentInvalidated', data: { reason: 'CONTROLS_REVISED' } }]);
      expect(state).toMatchObject({ status: 'AWAITING_CONSENT', consent: { status: 'STALE' } });
    }
    given(riskDecider, acceptedEvents()).when(progress('IN_PROGRESS', { progressPercent: 40 })).thenMatches([{ type: 'ControlProgressRecorded' }]);
  });

  describe('refusals', () => {
    it('CANCELLED needs a reason', () => {
      given(riskDecider, controlsDecidedEvents()).when(progress('CANCELLED', { actor: committee })).thenRejectsFields('note');
      given(riskDecider, controlsDecidedEvents()).when(progress('CANCELLED', { actor: committee, note: '   ' })).thenRejectsFields('note');
    });

    it.each<[ControlStatus, number]>([
      ['PLANNED', 10],
      ['IN_PROGRESS', 100],
      ['IN_PROGRESS', -1],
      ['IN_PROGRESS', 101],
      ['IN_PROGRESS', 2.5],
      ['IMPLEMENTED', 90],
    ])('%s at %s%% is not consistent', (status, percent) => {
      given(riskDecider, controlsDecidedEvents()).when(progress(status, { progressPercent: percent })).thenRejectsFields('progressPercent');
    });

    it('a cancelled control keeps the progress it had', () => {
      given(riskDecider, after(progress('IN_PROGRESS', { progressPercent: 40 })))
        .when(progress('CANCELLED', { actor: committee, note: 'x', progressPercent: 0 }))
        .thenRejectsFields('progressPercent');
    });

    it('an unknown status is BAD_USER_INPUT', () => {
      given(riskDecider, controlsDecidedEvents()).when(progress('DONE' as ControlStatus)).thenRejectsFields('status');
    });

    it.each<[string, () => RiskEvent[], ControlStatus]>([
      ['VERIFIED -> IN_PROGRESS', verified, 'IN_PROGRESS'],
      ['VERIFIED -> CANCELLED', verified, 'CANCELLED'],
      ['VERIFIED -> IMPLEMENTED', verified, 'IMPLEMENTED'],
      ['CANCELLED -> IN_PROGRESS', cancelled, 'IN_PROGRESS'],
      ['CANCELLED -> PLANNED', cancelled, 'PLANNED'],
    ])('no going back from a final status: %s (CONTROL_FINAL, Art.18)', (_l, history, status) => {
      given(riskDecider, history()).when(progress(status, { actor: committee, note: 'n' })).thenThrows(RuleViolationError, { rule: 'CONTROL_FINAL', article: 'Art.18' });
    });

    it.each<[string, () => RiskEvent[], ControlStatus]>([
      ['PLANNED -> VERIFIED', controlsDecidedEvents, 'VERIFIED'],
      ['IN_PROGRESS -> VERIFIED', () => after(progress('IN_PROGRESS')), 'VERIFIED'],
      ['IN_PROGRESS -> PLANNED', () => after(progress('IN_PROGRESS')), 'PLANNED'],
      ['IMPLEMENTED -> PLANNED', implemented, 'PLANNED'],
      ['IMPLEMENTED -> CANCELLED', implemented, 'CANCELLED'],
    ])('%s is not a transition (CONTROL_TRANSITION_NOT_ALLOWED, Art.19)', (_l, history, status) => {
      given(riskDecider, history()).when(progress(status, { actor: committee, note: 'n' })).thenThrows(RuleViolationError, { rule: 'CONTROL_TRANSITION_NOT_ALLOWED', article: 'Art.19' });
    });

    it('every status pair is either allowed by the table or refused', () => {
      // The table itself: nothing leaves VERIFIED or CANCELLED, VERIFIED only from IMPLEMENTED.
      expect(CONTROL_TRANSITIONS.VERIFIED).toEqual([]);
      expect(CONTROL_TRANSITIONS.CANCELLED).toEqual([]);
      expect(CONTROL_STATUSES.filter((s) => CONTROL_TRANSITIONS[s].includes('VERIFIED'))).toEqual(['IMPLEMENTED']);
    });

    it("the control's owner may not verify it, even as CISO; nor may whoever recorded it implemented (Art.12(3))", () => {
      const byOwnerCiso = after(progress('IMPLEMENTED', { actor: ciso }));
      given(riskDecider, byOwnerCiso).when(progress('VERIFIED', { actor: ownerWhoIsCiso })).thenThrows(RuleViolationError, { rule: 'CONTROL_SELF_VERIFICATION', article: 'Art.12(3)' });
      given(riskDecider, byOwnerCiso).when(progress('VERIFIED', { actor: ciso })).thenThrows(RuleViolationError, { rule: 'CONTROL_SELF_VERIFICATION' });
      given(riskDecider, byOwnerCiso).when(progress('VERIFIED', { actor: ciso2 })).thenMatches([{ type: 'ControlProgressRecorded', data: { status: 'VERIFIED' } }]);
    });

    it('nor under their id in another case or width: one person (Art.12(3), samePerson)', () => {
      const byOwnerCiso = after(progress('IMPLEMENTED', { actor: ciso }));
      for (const id of [ownerWhoIsCiso.id.toUpperCase(), ciso.id.toUpperCase(), ciso.id.normalize('NFKC').replace(/[a-z]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0))]) {
        given(riskDecider, byOwnerCiso).when(progress('VERIFIED', { actor: { ...ciso, id } })).thenThrows(RuleViolationError, { rule: 'CONTROL_SELF_VERIFICATION' });
      }
    });

    it('whoever recorded the transition into IMPLEMENTED still may not verify after someone else adds evidence to it (Art.12(3))', () => {
      // The CISO records it implemented; the control's owner later only attaches a report (IMPLEMENTED -> IMPLEMENTED).
      const history = continueHistory(after(progress('IMPLEMENTED', { actor: ciso })), progress('IMPLEMENTED', { evidence: [{ evidenceId: 'ev-report', sha256: 'c'.repeat(64) }] }));
      expect(progressOf(given(riskDecider, history).state, CONTROL)).toMatchObject({ status: 'IMPLEMENTED', implementedBy: ciso.id, updatedBy: controlOwner.id });
      given(riskDecider, history).when(progress('VERIFIED', { actor: ciso })).thenThrows(RuleViolationError, { rule: 'CONTROL_SELF_VERIFICATION', article: 'Art.12(3)' });
      given(riskDecider, history).when(progress('VERIFIED', { actor: ciso2 })).thenMatches([{ type: 'ControlProgressRecorded', data: { status: 'VERIFIED' } }]);
    });

    it('roles: the control owner carries it out; verifying and cancelling are for COMMITTEE_MEMBER and CISO', () => {
      given(riskDecider, implemented()).when(progress('VERIFIED', { actor: controlOwner })).thenThrows(ForbiddenError);
      given(riskDecider, controlsDecidedEvents()).when(progress('CANCELLED', { actor: controlOwner, note: 'x' })).thenThrows(ForbiddenError);
      // The risk's owner is not the control's owner.
      given(riskDecider, controlsDecidedEvents()).when(progress('IN_PROGRESS', { actor: owner })).thenThrows(ForbiddenError);
      given(riskDecider, controlsDecidedEvents()).when(progress('IN_PROGRESS', { actor: committee })).thenMatches([{ type: 'ControlProgressRecorded' }]);
    });

    it('never an AUDITOR, whatever other role the token carries', () => {
      given(riskDecider, controlsDecidedEvents()).when(progress('IN_PROGRESS', { actor: auditor })).thenThrows(ForbiddenError);
      given(riskDecider, controlsDecidedEvents())
        .when(progress('IN_PROGRESS', { actor: { ...controlOwner, roles: ['RISK_OWNER', 'AUDITOR'] } }))
        .thenThrows(ForbiddenError);
    });

    it('an unknown control or risk is NOT_FOUND', () => {
      given(riskDecider, controlsDecidedEvents()).when(progress('IN_PROGRESS', { controlId: 'nope' })).thenThrows(NotFoundError);
      given(riskDecider, []).when(progress('IN_PROGRESS')).thenThrows(NotFoundError);
    });

    it('a closed risk takes no progress', () => {
      const closed = continueHistory(controlsDecidedEvents(), decideTreatment({ options: ['AVOID'] }));
      given(riskDecider, closed).when(progress('IN_PROGRESS', { actor: committee })).thenThrows(RuleViolationError, { rule: 'RISK_CLOSED' });
    });
  });

  it('progress is no material change: a consent given stays ACCEPTED', () => {
    const { state } = given(riskDecider, acceptedEvents()).when(progress('IN_PROGRESS', { progressPercent: 10 })).thenMatches([{ type: 'ControlProgressRecorded' }]);
    expect(state.status).toBe('ACCEPTED');
    expect(state.consent?.status).toBe('ACCEPTED');
  });
});

describe('a control decided again (Art.18)', () => {
  it('keeps its id and its progress when restated by title or by existingControlId; a new one starts PLANNED; one left out is dropped', () => {
    const events = after(progress('IN_PROGRESS', { progressPercent: 40 }));
    const { state } = given(riskDecider, events)
      .when(
        decideControls({
          at: T3,
          controls: [
            control({ controlId: 'new-uuid-1', dueDate: '2025-07-31' }),
            control({ controlId: 'new-uuid-2', title: 'Cold storage ratio 95%', reason: 'Limits what a stolen key can move' }),
          ],
        }),
      )
      .thenMatches([{ type: 'ControlsDecided' }]);
    expect(state.controls.map((c) => [c.controlId, c.dueDate])).toEqual([
      [CONTROL, '2025-07-31'],
      ['new-uuid-2', '2025-06-30'],
    ]);
    expect(progressOf(state, CONTROL)).toMatchObject({ status: 'IN_PROGRESS', progressPercent: 40 });
    expect(progressOf(state, 'new-uuid-2')).toMatchObject({ status: 'PLANNED', progressPercent: 0 });

    // Renamed but named by id: still the same control.
    const renamed = given(riskDecider, events)
      .when(decideControls({ at: T3, controls: [control({ controlId: 'new-uuid-3', existingControlId: CONTROL, title: 'Multi-signature (2 of 3)' })] }))
      .thenMatches([{ type: 'ControlsDecided' }]);
    expect(renamed.state.controls[0]!.controlId).toBe(CONTROL);
    expect(progressOf(renamed.state, CONTROL).progressPercent).toBe(40);

    // Left out: its progress goes with it (the log keeps both).
    const dropped = given(riskDecider, events).when(decideControls({ at: T3, controls: [control({ controlId: 'other', title: 'Other' })] })).thenMatches([{ type: 'ControlsDecided' }]);
    expect(dropped.state.controlProgress).toEqual({});
  });

  it('the same controls again (new ids from the application) are already satisfied', () => {
    given(riskDecider, controlsDecidedEvents()).when(decideControls({ at: T3, controls: [control({ controlId: 'fresh-uuid' })] })).thenNothing();
  });

  it('existingControlId must name a control of the risk, once', () => {
    given(riskDecider, controlsDecidedEvents()).when(decideControls({ controls: [control({ existingControlId: 'nope' })] })).thenRejectsFields('controls[0].existingControlId');
    given(riskDecider, controlsDecidedEvents())
      .when(decideControls({ controls: [control({ existingControlId: CONTROL }), control({ controlId: 'x2', title: 'Other', existingControlId: CONTROL })] }))
      .thenRejectsFields('controls[1].existingControlId');
  });
});

describe('overdue: one rule', () => {
  it("is the due date before today in Japan and the control not done", () => {
    // 2025-06-30T15:00Z is 2025-07-01 00:00 in Japan.
    expect(isControlOverdue('2025-06-30', 'PLANNED', '2025-06-30T14:59:59.999Z')).toBe(false);
    expect(isControlOverdue('2025-06-30', 'PLANNED', '2025-06-30T15:00:00.000Z')).toBe(true);
    expect(isControlOverdue('2025-06-30', 'IN_PROGRESS', new Date('2025-08-01T00:00:00Z'))).toBe(true);
    for (const done of ['IMPLEMENTED', 'VERIFIED', 'CANCELLED'] as const) expect(isControlOverdue('2025-06-30', done, '2026-01-01T00:00:00Z')).toBe(false);
  });

  it('judged on the day in Japan at the instant (dayInJapan), as a whole register is judged', () => {
    for (const at of ['2025-06-30T14:59:59.999Z', '2025-06-30T15:00:00.000Z', '2025-12-31T23:00:00Z']) {
      for (const status of CONTROL_STATUSES) expect(isControlOverdueOn('2025-06-30', status, dayInJapan(at))).toBe(isControlOverdue('2025-06-30', status, at));
    }
  });

  it("overdueControls lists every risk's overdue controls, earliest due first, judging the register a slice per turn (probe p12)", async () => {
    const statuses: ControlStatus[] = ['PLANNED', 'IN_PROGRESS', 'IMPLEMENTED', 'CANCELLED'];
    const risks = Array.from({ length: 3_000 }, (_, i): RiskState => {
      const controls = [0, 1].map((k) => ({ controlId: `c-${k}`, title: `control ${k}`, description: '', ownerId: `u-${i % 7}`, dueDate: `2026-0${1 + ((i + k) % 9)}-15`, reason: 'r' }));
      const controlProgress = { 'c-0': { status: statuses[i % 4]!, progressPercent: 0, evidence: [] } };
      return { ...(riskDecider.initialState as RiskState), exists: true, id: `r-${String(i).padStart(4, '0')}`, status: i % 11 === 0 ? 'CLOSED' : 'CONTROLS_DECIDED', controls, controlProgress };
    });
    const at = new Date('2026-05-20T00:00:00Z');
    const [refs, turns] = await turnsDuring(() => overdueControlRefs(risks, at));
    const expected = risks
      .flatMap((r) => overdueControlsOf(r, at).map(({ control }) => ({ riskId: r.id, controlId: control.controlId, dueDate: control.dueDate })))
      .sort((a, b) => a.dueDate.localeCompare(b.dueDate) || a.riskId.localeCompare(b.riskId) || a.controlId.localeCompare(b.controlId));
    expect(expected.length).toBeGreaterThan(1_000);
    expect(refs.map(({ riskId, controlId, dueDate }) => ({ riskId, controlId, dueDate }))).toEqual(expected);
    expect(turns).toBeGreaterThanOrEqual(2);
  });
});

describe('RecordPassedDeadlines: ControlBecameOverdue and RiskReviewBecameDue, once each', () => {
  const late = '2025-07-01T00:00:00.000Z'; // 09:00 on 1 July in Japan: the 30 June due date has passed

  it('nothing before the due date has passed', () => {
    given(riskDecider, controlsDecidedEvents()).when(deadlines('2025-06-30T14:00:00.000Z')).thenNothing();
  });

  it('a control past its due date and not done: once per control and due date', () => {
    const { state } = given(riskDecider, controlsDecidedEvents())
      .when(deadlines(late))
      .then([{ type: 'ControlBecameOverdue', data: { riskId: RISK, controlId: CONTROL, title: control().title, ownerId: 'u-custody-lead', dueDate: '2025-06-30' } }]);
    expect(progressOf(state, CONTROL).overdueRecordedFor).toBe('2025-06-30');
    const once = continueHistory(controlsDecidedEvents(), deadlines(late));
    given(riskDecider, once).when(deadlines('2025-08-01T00:00:00.000Z')).thenNothing();
    // Decided again with a new due date, which passes too: a new notice.
    const moved = continueHistory(once, decideControls({ at: '2025-07-02T00:00:00.000Z', controls: [control({ controlId: 'u', dueDate: '2025-07-10' })] }));
    given(riskDecider, moved).when(deadlines('2025-07-09T00:00:00.000Z')).thenNothing();
    given(riskDecider, moved).when(deadlines('2025-07-11T00:00:00.000Z')).thenMatches([{ type: 'ControlBecameOverdue', data: { controlId: CONTROL, dueDate: '2025-07-10' } }]);
  });

  it('a control done in time never becomes overdue', () => {
    given(riskDecider, implemented()).when(deadlines(late)).thenNothing();
    given(riskDecider, cancelled()).when(deadlines(late)).thenNothing();
  });

  it('a review falling due (by the interval of the level): once per due date', () => {
    // The printer risk: retained LOW, evaluated at T2 (criteriaV1: LOW every 365 days).
    const retained = printerRetainedEvents();
    const evaluatedAt = Date.parse(T2);
    const dueAt = new Date(evaluatedAt + 365 * 86_400_000).toISOString();
    // Due from the start of its due day in Japan (15:00 UTC the day before), not from the instant.
    const dueDayStarts = `${new Date(Date.parse(`${dueAt.slice(0, 10)}T00:00:00.000Z`) - 9 * 3_600_000).toISOString()}`;
    given(riskDecider, retained).when(deadlines(new Date(Date.parse(dueDayStarts) - 1).toISOString(), { riskId: PRINTER_RISK })).thenNothing();
    given(riskDecider, retained).when(deadlines(dueDayStarts, { riskId: PRINTER_RISK })).thenMatches([{ type: 'RiskReviewBecameDue', data: { dueOn: dueAt.slice(0, 10) } }]);
    given(riskDecider, retained)
      .when(deadlines(dueAt, { riskId: PRINTER_RISK }))
      .then([{ type: 'RiskReviewBecameDue', data: { riskId: PRINTER_RISK, dueOn: dueAt.slice(0, 10), ownerId: owner.id } }]);
    const once = continueHistory(retained, deadlines(dueAt, { riskId: PRINTER_RISK }));
    given(riskDecider, once).when(deadlines('2027-01-01T00:00:00.000Z', { riskId: PRINTER_RISK })).thenNothing();
    // Without criteria in force no review falls due.
    given(riskDecider, retained).when(deadlines(dueAt, { riskId: PRINTER_RISK, criteria: undefined })).thenNothing();
  });

  it("dates a review's due day in Japan, like controls' due dates: evaluated at 05:00 in Japan (20:00 UTC the day before)", () => {
    const late = history(
      identifyPrinter(),
      analyseInformal('an-p1', 1, 1, { riskId: PRINTER_RISK, assets: [printer] }),
      evaluate({ riskId: PRINTER_RISK, assets: [printer], at: '2025-04-03T20:00:00.000Z' }),
    );
    given(riskDecider, late)
      .when(deadlines('2026-04-03T20:00:00.000Z', { riskId: PRINTER_RISK }))
      .then([{ type: 'RiskReviewBecameDue', data: { riskId: PRINTER_RISK, dueOn: '2026-04-04', ownerId: owner.id } }]);
  });

  it('a review an older build recorded due by its UTC day (the day before in Japan) is already recorded, not recorded again', () => {
    const late = history(
      identifyPrinter(),
      analyseInformal('an-p1', 1, 1, { riskId: PRINTER_RISK, assets: [printer] }),
      evaluate({ riskId: PRINTER_RISK, assets: [printer], at: '2025-04-03T20:00:00.000Z' }),
    );
    // Builds before 2026-12-01 14:27 wrote the UTC day of the due instant: 2026-04-03.
    const recordedByOldBuild: RiskEvent = { type: 'RiskReviewBecameDue', data: { riskId: PRINTER_RISK, dueOn: '2026-04-03', ownerId: owner.id } };
    given(riskDecider, [...late, recordedByOldBuild]).when(deadlines('2026-04-04T01:00:00.000Z', { riskId: PRINTER_RISK })).thenNothing();
    expect(hasUnrecordedDeadline(stateOf([...late, recordedByOldBuild]), criteriaV1, '2026-04-04T01:00:00.000Z')).toBe(false);
    // Another day is another due date: a record for the day before that is not this one.
    const otherDay: RiskEvent = { type: 'RiskReviewBecameDue', data: { riskId: PRINTER_RISK, dueOn: '2026-04-02', ownerId: owner.id } };
    given(riskDecider, [...late, otherDay]).when(deadlines('2026-04-04T01:00:00.000Z', { riskId: PRINTER_RISK })).thenMatches([{ type: 'RiskReviewBecameDue', data: { dueOn: '2026-04-04' } }]);
  });
});

describe('recordReview with controls not in place (Art.12(3))', () => {
  it('is a finding whatever the actual level: a new cycle opens', () => {
    const { state } = given(riskDecider, acceptedEvents())
      .when(review('rv-1', 1, 1, { controlsInPlace: false }))
      .thenMatches([
        { type: 'RiskReviewed', data: { controlsInPlace: false, actualLevel: 'LOW', targetLevel: 'LOW', finding: true } },
        { type: 'RiskReassessmentOpened', data: { cycle: 2, previousCycle: 1 } },
      ]);
    expect(state.status).toBe('IDENTIFIED');
    expect(state.cycle).toBe(2);
    expect(state.controls).toEqual([]);
    expect(state.controlProgress).toEqual({});
  });
});

describe('an AVOID cancels the controls not yet in place (Art.17, compliance probe F9)', () => {
  const avoid = decideTreatment({ options: ['AVOID'], targetLikelihood: 1, targetImpact: 1, at: T3 });
  const two = [control(), control({ controlId: 'ctl-hsm', title: 'HSM for signing keys', ownerId: 'u-custody-lead' })];

  it('PLANNED and IN_PROGRESS controls are CANCELLED in the AVOID\'s own decision, keeping their progress; the risk then closes', () => {
    const started = continueHistory(controlsDecidedEvents(), decideControls({ controls: two }), progress('IN_PROGRESS', { progressPercent: 40, controlId: 'ctl-hsm' }));
    const { state, events } = given(riskDecider, started).when(avoid).thenMatches([
      { type: 'RiskTreatmentDecided' },
      { type: 'ControlProgressRecorded', data: { controlId: CONTROL, status: 'CANCELLED', previousStatus: 'PLANNED', progressPercent: 0, recordedBy: committee.id } },
      { type: 'ControlProgressRecorded', data: { controlId: 'ctl-hsm', status: 'CANCELLED', previousStatus: 'IN_PROGRESS', progressPercent: 40 } },
      { type: 'RiskClosed' },
    ]);
    expect(events[1]!.data).toMatchObject({ note: expect.stringContaining('avoided (Art.17)') });
    expect(state.status).toBe('CLOSED');
    expect([progressOf(state, CONTROL).status, progressOf(state, 'ctl-hsm').status]).toEqual(['CANCELLED', 'CANCELLED']);
  });

  it('a control in place (IMPLEMENTED, VERIFIED) or already cancelled stays as it is; no controls, nothing to cancel', () => {
    for (const done of [implemented(), verified(), cancelled()]) {
      given(riskDecider, done).when(avoid).thenMatches([{ type: 'RiskTreatmentDecided' }, { type: 'RiskClosed' }]);
    }
    given(riskDecider, continueHistory(controlsDecidedEvents().slice(0, -1))).when(avoid).thenMatches([{ type: 'RiskTreatmentDecided' }, { type: 'RiskClosed' }]);
  });
});
