import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** What a receiver is told. The names are the contract's ("Following the plan through"). */
export const NOTICE_TYPES = ['ControlOverdue', 'ReviewDue', 'ConsentRequested', 'ConsentStale', 'PlanSubmitted'] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];

/** The JSON body of one POST. */
export interface Notice {
  type: NoticeType;
  /** Stable per notice (derived from the event id): a redelivery carries the same id, so a receiver can drop duplicates. */
  id: string;
  /** When the event happened (its metadata's occurredAt). */
  occurredAt: string;
  /** What a receiver needs (ids, titles, owners, dates); never a secret. */
  data: Record<string, unknown>;
}

export const SIGNATURE_HEADER = 'x-risk-ledger-signature';

/** Fixed namespace of notice ids (a UUID v5 namespace, RFC 4122 §4.3). */
const NOTICE_NAMESPACE = Buffer.from('6f1d2c4e8a3b5d7f9e0a1b2c3d4e5f60', 'hex');

/** The notice's id: a UUID v5 of its type and the event it comes from (same event, same id). */
export function noticeId(type: NoticeType, eventId: string): string {
  const digest = createHash('sha1').update(NOTICE_NAMESPACE).update(`${type}:${eventId}`, 'utf8').digest();
  digest[6] = (digest[6]! & 0x0f) | 0x50;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  const hex = digest.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The exact bytes sent (and signed): the notice as JSON, its fields in contract order. */
export function noticeBody(notice: Notice): Buffer {
  return Buffer.from(JSON.stringify({ type: notice.type, id: notice.id, occurredAt: notice.occurredAt, data: notice.data }), 'utf8');
}

/** `sha256=<hex HMAC-SHA256 of the body with the secret>`: the value of x-risk-ledger-signature. */
export function signatureOf(body: Buffer | string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does: recompute the HMAC over the raw body and compare in constant time. */
export function isValidSignature(body: Buffer | string, secret: string, header: string | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signatureOf(body, secret), 'utf8');
  const given = Buffer.from(header.trim(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
