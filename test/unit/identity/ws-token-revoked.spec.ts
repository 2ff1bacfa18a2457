/**
 * A graphql-ws connection whose token is revoked while it is open: from that instant its new
 * operations are refused (revokedOn), and it closes with 4401 once the queries and mutations
 * already running have answered, or after 10 s at the latest.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { closeSocketWhenTokenRevoked, revokedOn, TOKEN_EXPIRED_CLOSE_CODE } from '../../../src/identity/graphql/ws-token-expiry.js';
import { TokenRevocations } from '../../../src/identity/token-revocations.js';

const revoke = (list: TokenRevocations, subject: string) => list.apply({ subject, revokedAt: new Date().toISOString(), reason: 'Left', revokedBy: 'root' });

describe('a graphql-ws connection whose token is revoked', () => {
  it('refuses new operations at once and closes once the running ones have answered', async () => {
    const closes: number[] = [];
    const extra = { socket: { close: (code?: number) => void closes.push(code ?? 0) } };
    const list = new TokenRevocations();
    let running = 1;
    closeSocketWhenTokenRevoked(extra, list, 'owen', Math.floor(Date.now() / 1000) - 60, () => running);
    expect(revokedOn(extra)).toBeUndefined();
    revoke(list, 'owen');
    expect(revokedOn(extra)?.message).toMatch(/^Token revoked/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closes).toEqual([]);
    running = 0;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closes).toEqual([TOKEN_EXPIRED_CLOSE_CODE]);
  });

  it('closes after 10 s even if an operation never answers, and at once when none runs', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const closes: number[] = [];
      const extra = { socket: { close: (code?: number) => void closes.push(code ?? 0) } };
      const idle = { socket: { close: (code?: number) => void closes.push(-(code ?? 0)) } };
      const list = new TokenRevocations();
      closeSocketWhenTokenRevoked(extra, list, 'owen', undefined, () => 1);
      closeSocketWhenTokenRevoked(idle, list, 'owen', undefined);
      revoke(list, 'owen');
      expect(closes).toEqual([-TOKEN_EXPIRED_CLOSE_CODE]);
      jest.advanceTimersByTime(9_900);
      expect(closes).toHaveLength(1);
      jest.advanceTimersByTime(200);
      expect(closes).toEqual([-TOKEN_EXPIRED_CLOSE_CODE, TOKEN_EXPIRED_CLOSE_CODE]);
    } finally {
      jest.useRealTimers();
    }
  });
});
