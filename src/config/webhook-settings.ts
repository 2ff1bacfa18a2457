import { isWholeNumberText, MAX_TIMER_MS } from './settings.js';
/** Webhook notices (src/notifications): where to send them, the key that signs them, and how to retry. */
export interface WebhookSettings {
  /** WEBHOOK_URL: http or https, checked at start. */
  url: URL;
  /** WEBHOOK_SECRET: the HMAC-SHA256 key of `x-risk-ledger-signature`. */
  secret: string;
  /** WEBHOOK_TIMEOUT_MS: one request, from connecting to the response's last byte read. */
  timeoutMs: number;
  /** WEBHOOK_RETRY_INITIAL_MS: the first wait after a failed delivery; doubles on each failure… */
  retryInitialMs: number;
  /** WEBHOOK_RETRY_MAX_MS: …up to this. */
  retryMaxMs: number;
}

/** An HMAC key shorter than the hash's output weakens it (RFC 2104 §3). */
export const MIN_WEBHOOK_SECRET_BYTES = 32;

export const WEBHOOK_DEFAULTS = { timeoutMs: 10_000, retryInitialMs: 1_000, retryMaxMs: 300_000 } as const;

/**
 * Reads the WEBHOOK_* variables: undefined (notices off) without WEBHOOK_URL. `fail` builds the
 * error the caller throws (app-config.ts's ConfigError: the server then refuses to start).
 */
export function webhookSettings(env: NodeJS.ProcessEnv, fail: (message: string, setting: string) => Error): WebhookSettings | undefined {
  const raw = env.WEBHOOK_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fail('WEBHOOK_URL must be an absolute http:// or https:// URL', 'WEBHOOK_URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail(`WEBHOOK_URL must be an http:// or https:// URL, got a ${url.protocol} URL`, 'WEBHOOK_URL');
  if (!url.hostname) throw fail('WEBHOOK_URL must name a host', 'WEBHOOK_URL');
  url.hash = '';
  const secret = env.WEBHOOK_SECRET ?? '';
  if (Buffer.byteLength(secret, 'utf8') < MIN_WEBHOOK_SECRET_BYTES) {
    throw fail(`WEBHOOK_URL needs WEBHOOK_SECRET of at least ${MIN_WEBHOOK_SECRET_BYTES} bytes (e.g. \`openssl rand -hex 32\`) to sign the notices`, 'WEBHOOK_SECRET');
  }
  const ms = (name: string, fallback: number, min: number): number => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!isWholeNumberText(value) || n < min || n > MAX_TIMER_MS) throw fail(`${name} must be a whole number of milliseconds from ${min} to ${MAX_TIMER_MS} (about 24.8 days), got ${JSON.stringify(value)}`, name);
    return n;
  };
  const timeoutMs = ms('WEBHOOK_TIMEOUT_MS', WEBHOOK_DEFAULTS.timeoutMs, 1);
  const retryInitialMs = ms('WEBHOOK_RETRY_INITIAL_MS', WEBHOOK_DEFAULTS.retryInitialMs, 1);
  const retryMaxMs = ms('WEBHOOK_RETRY_MAX_MS', Math.max(WEBHOOK_DEFAULTS.retryMaxMs, retryInitialMs), 1);
  if (retryMaxMs < retryInitialMs) throw fail(`WEBHOOK_RETRY_MAX_MS (${retryMaxMs}) must be at least WEBHOOK_RETRY_INITIAL_MS (${retryInitialMs})`, 'WEBHOOK_RETRY_MAX_MS');
  return { url, secret, timeoutMs, retryInitialMs, retryMaxMs };
}

/** The URL as logs may show it: no user info, no query (either may carry a token). */
export function redactedWebhookUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}
