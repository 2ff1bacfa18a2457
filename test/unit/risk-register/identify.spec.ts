import { BadInputError, ForbiddenError, NotFoundError, RuleViolationError } from '../../../src/shared/domain/errors.js';
import { riskDecider } from '../../../src/risk-register/domain/risk.decider.js';
import type { RiskIdentified } from '../../../src/risk-register/domain/risk.events.js';
import { given } from '../support/given-when-then.js';
import { PRINTER_RISK, RISK, acceptedEvents, analysedEvents, continueHistory, decideTreatment, history, identify, printerRetainedEvents, reassignOwner, review, toTreatEvents, treatmentDecidedEvents } from './builders.js';
import type { WithdrawRisk } from '../../../src/risk-register/domain/risk.commands.js';
import {
  T0,
  T2,
  admin,
  auditor,
  ciso,
  committee,
  custodyManager,
  hotWallet,
  opsManager,
  opsWiki,
  owner,
  retiredFtp,
  secretary,
  withdrawalApi,
} from './fixtures.js';

const identified: RiskIdentified = {
  type: 'RiskIdentified',
  data: {
    riskId: RISK,
    title: 'Theft of the hot-wallet signing key',
    description: 'An attacker with access to the signing server exfiltrates the single hot-wallet key',
    assetIds: [hotWallet.id],
    threatId: 'thr-key-theft',
    threatAssetId: hotWallet.id,
    vulnerabilityId: 'vul-shared-key',
    ownerId: owner.id,
    externalReferences: ['Coincheck NEM incident, January 2018'],
    identifiedBy: committee.id,
    identifiedAt: T0,
  },
};

describe('IdentifyRisk (Art. 14(1))', () => {
  it('records the risk with its assets, threat, vulnerability, owner and sources', () => {
    const { state } = given(riskDecider, []).when(identify()).then([identified]);
    expect(state).toMatchObject({
      exists: true,
      id: RISK,
      version: 0,
      status: 'IDENTIFIED',
      cycle: 1,
      ownerId: owner.id,
      assetIds: [hotWallet.id],
      externalReferences: ['Coincheck NEM incident, January 2018'],
      identifiedAt: T0,
      identifiedBy: committee.id,
      updatedAt: T0,
      cycleAnalyses: [],
      analysisCount: 0,
      controls: [],
      lastReview: null,
      reviewCount: 0,
    });
    expect(state.level).toBeUndefined();
  });

  it('covers several assets; the threat may be recorded on any of them', () => {
    given(riskDecider, [])
      .when(identify({ assetIds: [withdrawalApi.id, hotWallet.id] }))
      .thenMatches([{ type: 'RiskIdentified', data: { assetIds: [withdrawalApi.id, hotWallet.id], threatAssetId: hotWallet.id } }]);
  });

  it('trims text and de-duplicates sources', () => {
    given(riskDecider, [])
      .when(identify({ title: '  Key theft  ', externalReferences: ['Mt. Gox 2014', ' Mt. Gox 2014 '] }))
      .thenMatches([{ type: 'RiskIdentified', data: { title: 'Key theft', externalReferences: ['Mt. Gox 2014'] } }]);
  });

  it('is already satisfied when repeated with the same content', () => {
    given(riskDecider, [identified]).when(identify()).thenNothing();
  });

  it('refuses to reuse an id for a different risk', () => {
    given(riskDecider, [identified])
      .when(identify({ title: 'Something else' }))
      .thenThrows(RuleViolationError, { rule: 'RISK_ALREADY_IDENTIFIED', article: 'Art.14(1)' });
  });

  describe('roles', () => {
    it.each([
      ['RISK_OWNER', owner],
      ['ASSET_MANAGER of the department', custodyManager],
      ['COMMITTEE_MEMBER', committee],
      ['CISO', ciso],
    ])('%s may identify', (_label, actor) => {
      given(riskDecider, []).when(identify({ actor })).thenMatches([{ type: 'RiskIdentified', data: { identifiedBy: actor.id } }]);
    });

    it.each([
      ['AUDITOR', auditor],
      ['ADMIN', admin],
      ['BOARD_SECRETARY', secretary],
    ])('%s may not', (_label, actor) => {
      given(riskDecider, []).when(identify({ actor })).thenThrows(ForbiddenError);
    });

    it('an ASSET_MANAGER acts only on assets of their own department', () => {
      given(riskDecider, []).when(identify({ actor: opsManager })).thenThrows(ForbiddenError);
      given(riskDecider, [])
        .when(identify({ actor: opsManager, assetIds: [opsWiki.id], threatId: 'thr-leak', vulnerabilityId: 'vul-public-link', assets: [opsWiki] }))
        .thenMatches([{ type: 'RiskIdentified' }]);
    });

    it('an ASSET_MANAGER\'s department matches however it is spelt (case, width), as for the name rule (probe p14 F3)', () => {
      for (const department of ['operations', 'OPERATIONS', 'ｏｐｅｒａｔｉｏｎｓ']) {
        given(riskDecider, [])
          .when(identify({ actor: { ...opsManager, department }, assetIds: [opsWiki.id], threatId: 'thr-leak', vulnerabilityId: 'vul-public-link', assets: [opsWiki] }))
          .thenMatches([{ type: 'RiskIdentified' }]);
      }
    });

    it('an actor who also holds AUDITOR changes nothing', () => {
      given(riskDecider, [])
        .when(identify({ actor: { ...ciso, roles: ['CISO', 'AUDITOR'] } }))
        .thenThrows(ForbiddenError);
    });
  });

  describe('validation', () => {
    it('collects every field problem at once', () => {
      const error = given(riskDecider, [])
        .when(identify({ title: ' ', assetIds: [], threatId: '', vulnerabilityId: '', ownerId: '', externalReferences: ['ok', ''] }))
        .thenThrows(BadInputError);
      expect(Object.keys(error.fields).sort()).toEqual(
        ['assetIds', 'externalReferences[1]', 'ownerId', 'threatId', 'title', 'vulnerabilityId'].sort(),
      );
    });

    // An owner nobody can be: no token's subject can carry an invisible, padded or system id, so
    // nobody could ever accept or decline the risk (compliance probe F9).
    it.each(['\u200B', 'owen\u2060', '\u3164', 'own\ner', 'system:process-manager', 'ＳＹＳＴＥＭ:x', 'x'.repeat(129), 'owen\u034F', '\uFE0F', '\u180B', '\u17B4', '\u2800', '\u0301', '\u0301owen', 'owen\u2800', 'o\u200Awen', '山田\u3000太郎', 'o  wen', 'owen \u0301'])('refuses the owner %j', (ownerId) => {
      const error = given(riskDecider, []).when(identify({ ownerId })).thenThrows(BadInputError);
      expect(error.fields).toEqual({ ownerId: expect.stringMatching(/no user could act under it/) });
      given(riskDecider, history(identify())).when(reassignOwner(ownerId)).thenRejectsFields('ownerId');
    });

    it('takes any id a token could carry, as given (trimmed, not folded)', () => {
      for (const ownerId of ['ｏｗｅｎ', 'オーナー', 'u-owner@example.jp', 'José', 'Jose\u0301', '李', '⌘']) {
        const { state } = given(riskDecider, []).when(identify({ ownerId: ` ${ownerId} ` })).then([{ ...identified, data: { ...identified.data, ownerId } }]);
        expect(state.ownerId).toBe(ownerId);
      }
    });

    it('refuses a duplicated asset id', () => {
      given(riskDecider, []).when(identify({ assetIds: [hotWallet.id, hotWallet.id] })).thenRejectsFields('assetIds[1]');
    });

    it('refuses a title that is too long', () => {
      given(riskDecider, []).when(identify({ title: 'x'.repeat(201) })).thenRejectsFields('title');
    });

    it('a missing asset is NOT_FOUND', () => {
      given(riskDecider, [])
        .when(identify({ assetIds: [hotWallet.id, 'asset-nowhere'] }))
        .thenThrows(NotFoundError, { entity: 'Asset', id: 'asset-nowhere' });
    });

    it('the threat must be recorded on one of the assets', () => {
      const error = given(riskDecider, []).when(identify({ threatId: 'thr-leak' })).thenThrows(BadInputError);
      expect(Object.keys(error.fields)).toEqual(['threatId']);
    });

    it('the vulnerability must belong to that threat', () => {
      // vul-single-node belongs to thr-outage, not to thr-key-theft
      const error = given(riskDecider, []).when(identify({ vulnerabilityId: 'vul-single-node' })).thenThrows(BadInputError);
      expect(Object.keys(error.fields)).toEqual(['vulnerabilityId']);
    });

    it('a retired asset is out of the inventory (Art. 14(2))', () => {
      given(riskDecider, [])
        .when(identify({ assetIds: [retiredFtp.id], threatId: 'thr-sniff', vulnerabilityId: 'vul-plaintext', assets: [retiredFtp] }))
        .thenThrows(RuleViolationError, { rule: 'ASSET_RETIRED', article: 'Art.14(2)' });
    });
  });

  it('the stream version is the revision of the last event', () => {
    expect(history(identify()).length).toBe(1);
    const { state } = given(riskDecider, []).when(identify()).then([identified]);
    expect(state.version).toBe(0);
  });
});

describe('WithdrawRisk (Art. 14(1)): a risk identified in error or twice (compliance probe M8)', () => {
  const withdraw = (over: Partial<WithdrawRisk> = {}): WithdrawRisk => ({ type: 'WithdrawRisk', riskId: RISK, reason: 'A duplicate of the risk identified for the signing server', actor: committee, at: T2, ...over });

  it.each([
    ['IDENTIFIED', () => history(identify())],
    ['ANALYSED', analysedEvents],
    ['TO_TREAT', toTreatEvents],
  ])('closes a risk that is %s, its assets untouched; withdrawn again, nothing changes', (_s, events) => {
    const { state, events: decided } = given(riskDecider, events())
      .when(withdraw())
      .then([{ type: 'RiskClosed', data: { riskId: RISK, reason: 'WITHDRAWN', assetIds: [], explanation: 'A duplicate of the risk identified for the signing server', closedBy: committee.id, closedAt: T2 } }]);
    expect(state).toMatchObject({ status: 'CLOSED', closedReason: 'WITHDRAWN', closedExplanation: 'A duplicate of the risk identified for the signing server', closedBy: committee.id, closedAt: T2 });
    given(riskDecider, [...events(), ...decided]).when(withdraw({ actor: ciso })).thenNothing();
    // Another reason is refused, not answered as done with it dropped (probes of 2026-12-06, Art.20 L4, auditor F4).
    given(riskDecider, [...events(), ...decided]).when(withdraw({ actor: ciso, reason: 'again' })).thenThrows(RuleViolationError, { rule: 'RISK_CLOSED' });
  });

  it('a RETAINED risk too', () => {
    given(riskDecider, printerRetainedEvents()).when(withdraw({ riskId: PRINTER_RISK })).thenMatches([{ type: 'RiskClosed', data: { reason: 'WITHDRAWN' } }]);
  });

  it('refuses a treated risk (it leaves by avoidance), an avoided one, no reason, and other roles', () => {
    given(riskDecider, treatmentDecidedEvents()).when(withdraw()).thenThrows(RuleViolationError, { rule: 'RISK_NOT_WITHDRAWABLE', article: 'Art.14(1)' });
    const avoided = continueHistory(toTreatEvents(), decideTreatment({ options: ['AVOID'] }));
    given(riskDecider, avoided).when(withdraw()).thenThrows(RuleViolationError, { rule: 'RISK_CLOSED' });
    given(riskDecider, history(identify())).when(withdraw({ reason: ' ' })).thenRejectsFields('reason');
    for (const actor of [owner, auditor, admin, custodyManager]) given(riskDecider, history(identify())).when(withdraw({ actor })).thenThrows(ForbiddenError);
    given(riskDecider, []).when(withdraw()).thenThrows(NotFoundError);
  });

  it('refuses a risk a review reopened, though it reads IDENTIFIED with no treatment: it was found real (hostile probe of 2026-12-06, F1)', () => {
    const reopened = continueHistory(acceptedEvents(), review('rv-1', 3, 3, { controlsInPlace: false }));
    expect(given(riskDecider, reopened).state).toMatchObject({ status: 'IDENTIFIED', cycle: 2 });
    const refused = given(riskDecider, reopened).when(withdraw()).thenThrows(RuleViolationError, { rule: 'RISK_NOT_WITHDRAWABLE', article: 'Art.14(1)' });
    expect(refused.message).toContain('cycle 2');
  });
});
