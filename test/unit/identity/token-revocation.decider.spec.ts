import { describe, expect, it } from '@jest/globals';
import { tokenRevocationDecider, type RevokeTokens } from '../../../src/identity/domain/token-revocation.decider.js';
import type { TokensRevoked } from '../../../src/identity/domain/token-revocation.events.js';
import { TokenRevocations } from '../../../src/identity/token-revocations.js';
import { CLOCK_TOLERANCE_SECONDS } from '../../../src/identity/clock-tolerance.js';
import type { DomainActor } from '../../../src/shared/domain/decider.js';
import { ForbiddenError } from '../../../src/shared/domain/errors.js';
import { given } from '../support/given-when-then.js';

const T0 = '2026-12-01T09:00:00.000Z';
const T1 = '2026-12-02T09:00:00.000Z';
const admin: DomainActor = { id: 'root', name: 'Operator', roles: ['ADMIN'] };
const ciso: DomainActor = { id: 'ciso', name: 'Chika', roles: ['CISO'] };

const revoke = (over: Partial<RevokeTokens> = {}): RevokeTokens => ({ type: 'RevokeTokens', actor: admin, at: T0, subject: 'owen', reason: 'Left the company', ...over });
const revoked = (over: Partial<TokensRevoked['data']> = {}): TokensRevoked => ({ type: 'TokensRevoked', data: { subject: 'owen', revokedAt: T0, reason: 'Left the company', revokedBy: 'root', ...over } });

describe('token revocation decider', () => {
  it('records TokensRevoked with the instant of the command, the reason and who', () => {
    const { state } = given(tokenRevocationDecider, []).when(revoke()).then([revoked()]);
    expect(state.bySubject.owen).toEqual(revoked().data);
  });

  it('revoking again at a later instant moves the instant; at the same or an earlier one records nothing', () => {
    const { state } = given(tokenRevocationDecider, [revoked()]).when(revoke({ at: T1, reason: 'New device stolen' })).then([revoked({ revokedAt: T1, reason: 'New device stolen' })]);
    expect(state.bySubject.owen!.revokedAt).toBe(T1);
    given(tokenRevocationDecider, [revoked()]).when(revoke()).thenNothing();
    given(tokenRevocationDecider, [revoked({ revokedAt: T1 })]).when(revoke({ at: T0 })).thenNothing();
  });

  it('keeps one revocation per subject, each on its own', () => {
    const { state } = given(tokenRevocationDecider, [revoked()]).when(revoke({ subject: 'bella', at: T1 })).then([revoked({ subject: 'bella', revokedAt: T1 })]);
    expect(Object.keys(state.bySubject).sort()).toEqual(['bella', 'owen']);
  });

  it('is for an ADMIN only, never an auditor', () => {
    given(tokenRevocationDecider, []).when(revoke({ actor: ciso })).thenThrows(ForbiddenError);
    given(tokenRevocationDecider, []).when(revoke({ actor: { ...admin, roles: ['ADMIN', 'AUDITOR'] } })).thenThrows(ForbiddenError);
  });

  it('refuses a subject no token could carry and an empty reason', () => {
    given(tokenRevocationDecider, []).when(revoke({ subject: '', reason: '  ' })).thenRejectsFields('subject', 'reason');
    given(tokenRevocationDecider, []).when(revoke({ subject: 'system:process-manager' })).thenRejectsFields('subject');
    given(tokenRevocationDecider, []).when(revoke({ subject: 'owen\u200B' })).thenRejectsFields('subject');
  });
});

describe('TokenRevocations (the in-memory list the verifier checks)', () => {
  const seconds = (iso: string) => Date.parse(iso) / 1000;

  it('refuses tokens issued at or before the instant (or up to the clock tolerance after it), and those without iat; not later ones nor other subjects', () => {
    const list = new TokenRevocations();
    expect(list.isRevoked('owen', undefined)).toBe(false);
    list.apply(revoked().data);
    expect(list.isRevoked('owen', seconds(T0) - 3600)).toBe(true);
    expect(list.isRevoked('owen', seconds(T0))).toBe(true);
    expect(list.isRevoked('owen', undefined)).toBe(true);
    // An iat the verifier accepts ahead of this server's clock may belong to a token minted before (re-probe F2).
    expect(list.isRevoked('owen', seconds(T0) + 1)).toBe(true);
    expect(list.isRevoked('owen', seconds(T0) + CLOCK_TOLERANCE_SECONDS)).toBe(true);
    expect(list.isRevoked('owen', seconds(T0) + CLOCK_TOLERANCE_SECONDS + 1)).toBe(false);
    expect(list.isRevoked('bella', seconds(T0) - 3600)).toBe(false);
    expect(list.isRevoked('Owen', seconds(T0) - 3600)).toBe(false);
  });

  it('ends with the latest revocation whatever the order it learns them in', () => {
    const list = new TokenRevocations();
    list.apply(revoked({ revokedAt: T1, reason: 'later' }).data);
    list.apply(revoked({ revokedAt: T0, reason: 'earlier' }).data);
    expect(list.list()).toEqual([revoked({ revokedAt: T1, reason: 'later' }).data]);
  });

  it('cuts the connections a revocation covers, once, and not those of tokens issued after it', () => {
    const list = new TokenRevocations();
    const cut: string[] = [];
    list.onRevoked('owen', seconds(T0) - 60, () => cut.push('old'));
    list.onRevoked('owen', seconds(T0) + 60, () => cut.push('new'));
    const forget = list.onRevoked('owen', undefined, () => cut.push('forgotten'));
    list.onRevoked('bella', seconds(T0) - 60, () => cut.push('bella'));
    forget();
    list.apply(revoked().data);
    list.apply(revoked().data);
    expect(cut).toEqual(['old']);
    list.apply(revoked({ revokedAt: T1 }).data);
    expect(cut).toEqual(['old', 'new']);
  });
});
