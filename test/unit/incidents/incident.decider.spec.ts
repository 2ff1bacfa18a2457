import { incidentDecider, type LinkIncidentToRisk, type RecordIncident, type UnlinkIncidentFromRisk } from '../../../src/incidents/domain/incident.decider.js';
import type { IncidentLinkedToRisk, IncidentRecorded } from '../../../src/incidents/domain/incident.events.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import type { RiskAnalysed } from '../../../src/risk-register/domain/risk.events.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';
import { ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { given } from '../support/given-when-then.js';
import { analyseInformal, history, identify } from '../risk-register/builders.js';
import { T1 } from '../risk-register/fixtures.js';

const T0 = '2026-04-01T01:00:00.000Z';
const owner: DomainActor = { id: 'u-owner', name: 'Ren', roles: ['RISK_OWNER'] };
const otherOwner: DomainActor = { id: 'u-owner2', name: 'Sora', roles: ['RISK_OWNER'] };
const committee: DomainActor = { id: 'u-com', name: 'Kenji', roles: ['COMMITTEE_MEMBER'] };
const manager: DomainActor = { id: 'u-mgr', name: 'Mina', roles: ['ASSET_MANAGER'], department: 'ops' };
const auditor: DomainActor = { id: 'u-aud', name: 'Aiko', roles: ['AUDITOR'] };
const INCIDENT = 'inc-1';
const risk = { exists: true, ownerId: owner.id };

const record = (over: Partial<RecordIncident> = {}): RecordIncident => ({
  type: 'RecordIncident',
  incidentId: INCIDENT,
  actor: manager,
  at: T0,
  title: 'Hot-wallet keys stolen',
  organisation: 'Coincheck',
  occurredOn: '2018-01-26',
  description: 'NEM worth 58 billion yen left a hot wallet signed with one key.',
  sources: ['FSA business improvement order, 2018-01-29'],
  ...over,
});
const recorded: IncidentRecorded = {
  type: 'IncidentRecorded',
  data: {
    incidentId: INCIDENT,
    title: 'Hot-wallet keys stolen',
    organisation: 'Coincheck',
    occurredOn: '2018-01-26',
    description: 'NEM worth 58 billion yen left a hot wallet signed with one key.',
    sources: ['FSA business improvement order, 2018-01-29'],
    recordedBy: 'u-mgr',
    recordedAt: T0,
  },
};
const link = (over: Partial<LinkIncidentToRisk> = {}): LinkIncidentToRisk => ({ type: 'LinkIncidentToRisk', incidentId: INCIDENT, riskId: 'risk-1', risk, actor: owner, at: T0, ...over });
const linked = (riskId = 'risk-1', by = owner.id): IncidentLinkedToRisk => ({ type: 'IncidentLinkedToRisk', data: { incidentId: INCIDENT, riskId, linkedBy: by, linkedAt: T0 } });
const unlink = (over: Partial<UnlinkIncidentFromRisk> = {}): UnlinkIncidentFromRisk => ({ type: 'UnlinkIncidentFromRisk', incidentId: INCIDENT, riskId: 'risk-1', risk, reason: 'Linked by mistake', actor: committee, at: T0, ...over });

describe('recordIncident (Art.15(3))', () => {
  it('records an incident at another firm, trimmed, sources without repeats', () => {
    const { state } = given(incidentDecider, []).when(record({ title: ' Hot-wallet keys stolen ', sources: ['FSA business improvement order, 2018-01-29', ' FSA business improvement order, 2018-01-29 '] })).then([recorded]);
    expect(state).toMatchObject({ exists: true, id: INCIDENT, version: 0, riskIds: [] });
  });

  it('a retry with the same id is already satisfied', () => {
    given(incidentDecider, [recorded]).when(record()).thenNothing();
  });

  it('occurredOn is a real date, not after today in Japan', () => {
    given(incidentDecider, []).when(record({ occurredOn: '2026-02-30' })).thenRejectsFields('occurredOn');
    given(incidentDecider, []).when(record({ occurredOn: '26/01/2018' })).thenRejectsFields('occurredOn');
    // 2026-04-01T01:00Z is 10:00 on 1 April in Japan: the 1st is today, the 2nd is the future.
    given(incidentDecider, []).when(record({ occurredOn: '2026-04-01' })).thenMatches([{ type: 'IncidentRecorded', data: { occurredOn: '2026-04-01' } }]);
    const error = given(incidentDecider, []).when(record({ occurredOn: '2026-04-02' })).thenRejectsFields('occurredOn');
    expect(error.fields.occurredOn).toMatch(/2026-04-01/);
  });

  it('names every field that is wrong', () => {
    given(incidentDecider, []).when(record({ title: ' ', organisation: '', description: '', sources: ['ok', ''] })).thenRejectsFields('title', 'organisation', 'description', 'sources[1]');
  });

  it('any role but AUDITOR', () => {
    for (const actor of [owner, committee, manager, { id: 's', name: 'S', roles: ['BOARD_SECRETARY'] }] as DomainActor[]) {
      given(incidentDecider, []).when(record({ actor })).thenMatches([{ type: 'IncidentRecorded' }]);
    }
    given(incidentDecider, []).when(record({ actor: auditor })).thenThrows(ForbiddenError);
    given(incidentDecider, []).when(record({ actor: { ...auditor, roles: ['AUDITOR', 'CISO'] } })).thenThrows(ForbiddenError);
  });
});

describe('linkIncidentToRisk / unlinkIncidentFromRisk', () => {
  it("links for the risk's owner, a committee member or the CISO; the incident's state lists the risks", () => {
    const { state } = given(incidentDecider, [recorded]).when(link()).then([linked()]);
    expect(state).toMatchObject({ version: 1, riskIds: ['risk-1'] });
    given(incidentDecider, [recorded, linked()]).when(link({ riskId: 'risk-2', actor: committee })).then([linked('risk-2', committee.id)]);
  });

  it('a link already there is already satisfied (idempotent, however many clients ask)', () => {
    given(incidentDecider, [recorded, linked()]).when(link({ actor: committee })).thenNothing();
  });

  it('refuses another owner, an asset manager and an auditor', () => {
    for (const actor of [otherOwner, manager, auditor]) given(incidentDecider, [recorded]).when(link({ actor })).thenThrows(ForbiddenError);
  });

  it('NOT_FOUND for an unknown incident or risk, before the role check', () => {
    given(incidentDecider, []).when(link({ actor: manager })).thenThrows(NotFoundError, { entity: 'Incident' });
    given(incidentDecider, [recorded]).when(link({ actor: manager, risk: { exists: false, ownerId: '' } })).thenThrows(NotFoundError, { entity: 'Risk' });
  });

  it('unlinks with a reason; nothing to unlink is already satisfied; linking again works', () => {
    const { events, state } = given(incidentDecider, [recorded, linked()]).when(unlink()).thenMatches([{ type: 'IncidentUnlinkedFromRisk', data: { riskId: 'risk-1', reason: 'Linked by mistake', unlinkedBy: committee.id } }]);
    expect(state.riskIds).toEqual([]);
    given(incidentDecider, [recorded, linked(), ...events]).when(unlink()).thenNothing();
    given(incidentDecider, [recorded, linked(), ...events]).when(link()).then([linked()]);
    given(incidentDecider, [recorded, linked()]).when(unlink({ reason: ' ' })).thenRejectsFields('reason');
  });

  it('an unlink again for another reason is refused (INCIDENT_NOT_LINKED), the first standing; never linked is already satisfied; a new link clears it', () => {
    const { events } = given(incidentDecider, [recorded, linked()]).when(unlink()).thenMatches([{ type: 'IncidentUnlinkedFromRisk' }]);
    const unlinked = [recorded, linked(), ...events];
    given(incidentDecider, unlinked)
      .when(unlink({ reason: 'Another reason', actor: owner }))
      .thenThrows(RuleViolationError, { rule: 'INCIDENT_NOT_LINKED', article: 'Art.15(3)', message: expect.stringMatching(/unlinked from risk risk-1 already \(by u-com at .*\) for another reason/) });
    // The same reason, trimmed, is the same unlink.
    given(incidentDecider, unlinked).when(unlink({ reason: ' Linked by mistake ' })).thenNothing();
    // Another risk, never linked: nothing to remove, whatever the reason.
    given(incidentDecider, unlinked).when(unlink({ riskId: 'risk-2', reason: 'Another reason' })).thenNothing();
    // Linked again, then unlinked for another reason: recorded.
    given(incidentDecider, [...unlinked, linked()]).when(unlink({ reason: 'Another reason' })).thenMatches([{ type: 'IncidentUnlinkedFromRisk', data: { reason: 'Another reason' } }]);
    const { state } = given(incidentDecider, [...unlinked, linked()]).when(link()).thenNothing();
    expect(state.unlinked).toEqual({});
  });
});

describe('analyseRisk citing incidents (Art.15(3))', () => {
  const identified = history(identify());

  it('records the cited incidents, each once, in the RiskAnalysed event', () => {
    const { events } = given(riskDecider, identified)
      .when(analyseInformal('an-1', 2, 2, { at: T1, incidentIds: ['inc-1', 'inc-2', 'inc-1'], knownIncidentIds: ['inc-1', 'inc-2'] }))
      .thenMatches([{ type: 'RiskAnalysed', data: { analysisId: 'an-1', incidentIds: ['inc-1', 'inc-2'] } }]);
    expect(events).toHaveLength(1);
  });

  it('an analysis citing none records no incidentIds (the shape of schema version 1)', () => {
    const { events } = given(riskDecider, identified).when(analyseInformal('an-1', 2, 2, { at: T1 })).thenMatches([{ type: 'RiskAnalysed' }]);
    expect((events[0] as RiskAnalysed).data).not.toHaveProperty('incidentIds');
  });

  it('an incident not recorded is BAD_USER_INPUT naming incidentIds[i]', () => {
    const error = given(riskDecider, identified)
      .when(analyseInformal('an-1', 2, 2, { at: T1, incidentIds: ['inc-1', 'nope'], knownIncidentIds: ['inc-1'] }))
      .thenRejectsFields('incidentIds[1]');
    expect(Object.keys(error.fields)).not.toContain('incidentIds[0]');
  });
});
