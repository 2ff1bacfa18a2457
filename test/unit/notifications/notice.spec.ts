import { describe, expect, it } from '@jest/globals';
import { createHmac } from 'node:crypto';
import { isValidSignature, noticeBody, noticeId, signatureOf, type Notice } from '../../../src/notifications/domain/notice.js';
import { retryDelayMs } from '../../../src/notifications/domain/retry-schedule.js';

const SECRET = 'webhook-secret-for-unit-tests-0123456789';

describe('notice signature', () => {
  const notice: Notice = { type: 'PlanSubmitted', id: noticeId('PlanSubmitted', 'e-1'), occurredAt: '2026-04-01T00:00:00.000Z', data: { planId: 'p-1', title: '情報セキュリティ管理計画' } };

  it('is sha256= and the hex HMAC-SHA256 of the exact body bytes with the secret', () => {
    const body = noticeBody(notice);
    const expected = createHmac('sha256', SECRET).update(body).digest('hex');
    expect(signatureOf(body, SECRET)).toBe(`sha256=${expected}`);
    expect(JSON.parse(body.toString('utf8'))).toEqual({ type: 'PlanSubmitted', id: notice.id, occurredAt: notice.occurredAt, data: notice.data });
  });

  it('verifies the body it signed, and nothing else', () => {
    const body = noticeBody(notice);
    const header = signatureOf(body, SECRET);
    expect(isValidSignature(body, SECRET, header)).toBe(true);
    expect(isValidSignature(body.toString('utf8'), SECRET, header)).toBe(true);
    const altered = Buffer.from(body.toString('utf8').replace('p-1', 'p-2'), 'utf8');
    expect(isValidSignature(altered, SECRET, header)).toBe(false);
    expect(isValidSignature(body, `${SECRET}x`, header)).toBe(false);
    expect(isValidSignature(body, SECRET, header.replace('sha256=', 'sha1='))).toBe(false);
    expect(isValidSignature(body, SECRET, header.slice(0, -1))).toBe(false);
    expect(isValidSignature(body, SECRET, undefined)).toBe(false);
  });

  it('gives each notice a stable UUID from its type and event id', () => {
    const id = noticeId('ConsentRequested', '0b6f7a4e-1111-4c3b-9a55-2d2f3b1c0e01');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(noticeId('ConsentRequested', '0b6f7a4e-1111-4c3b-9a55-2d2f3b1c0e01')).toBe(id);
    expect(noticeId('ConsentStale', '0b6f7a4e-1111-4c3b-9a55-2d2f3b1c0e01')).not.toBe(id);
    expect(noticeId('ConsentRequested', '0b6f7a4e-1111-4c3b-9a55-2d2f3b1c0e02')).not.toBe(id);
  });
});

describe('retry delay', () => {
  const policy = { initialMs: 1_000, maxMs: 300_000 };

  it('doubles from the initial delay up to the cap, drawn between half the ceiling and the ceiling', () => {
    const ceilings = [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000];
    ceilings.forEach((ceiling, i) => {
      expect(retryDelayMs(i + 1, policy, () => 1)).toBe(ceiling);
      expect(retryDelayMs(i + 1, policy, () => 0)).toBe(ceiling / 2);
      expect(retryDelayMs(i + 1, policy, () => 0.5)).toBe(Math.round(ceiling * 0.75));
    });
  });

  it('stays within bounds for any draw and any number of failures', () => {
    for (const failures of [1, 2, 9, 10, 60, 1_000, Number.MAX_SAFE_INTEGER]) {
      for (let i = 0; i < 50; i++) {
        const delay = retryDelayMs(failures, policy);
        expect(delay).toBeGreaterThanOrEqual(Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(failures - 1, 52)) / 2);
        expect(delay).toBeLessThanOrEqual(policy.maxMs);
      }
    }
    expect(retryDelayMs(0, policy, () => 1)).toBe(1_000);
    expect(retryDelayMs(3, { initialMs: 1, maxMs: 1 }, () => 0)).toBe(1);
  });

  it('varies with the draw (jitter), so receivers coming back are not hit all at once', () => {
    const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs(5, policy)));
    expect(delays.size).toBeGreaterThan(1);
  });
});
