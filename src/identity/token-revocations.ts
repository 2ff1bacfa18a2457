import { CLOCK_TOLERANCE_SECONDS } from './clock-tolerance.js';
import type { TokenRevocation, TokenRevocationState } from './domain/token-revocation.decider.js';

type Cut = () => void;

/**
 * The revocations in force, in memory, for the check every request makes (one Map lookup; nothing
 * when none was ever recorded). Fed from the event store (revocation-feed.ts), never from the
 * in-process bus, so every instance on one database learns each revocation; a revocation only
 * ever moves later, so applying the same one twice, or two in any order, ends the same.
 */
export class TokenRevocations {
  private readonly bySubject = new Map<string, { revokedAtMs: number; revocation: TokenRevocation }>();
  /** Open graphql-ws connections per subject, cut when their token is revoked. */
  private readonly cuts = new Map<string, Map<Cut, number | undefined>>();
  /** Up to which revision of the stream the feed has taken it in (known()), and the state then, built on demand. */
  private version: number | undefined;
  private state: TokenRevocationState | undefined;

  /**
   * Whether a token of `subject` issued at `issuedAt` (its `iat`, seconds since the epoch) is
   * revoked: issued at or before the revocation's instant, or without `iat` at all. An `iat` up to
   * CLOCK_TOLERANCE_SECONDS after the instant counts as before it: the verifier accepts an `iat`
   * that far ahead of this server's clock, so a token an issuer whose clock runs ahead minted
   * before the revocation may say so (re-probe F2: it outlived the revocation by its whole life).
   */
  isRevoked(subject: string, issuedAt: number | undefined): boolean {
    if (this.bySubject.size === 0) return false;
    const entry = this.bySubject.get(subject);
    return entry !== undefined && revocationCovers(entry.revokedAtMs, issuedAt);
  }

  /**
   * The revocations stream as this list holds it: its state and the revision of the last event
   * taken in (-1: none), for the command admission's first attempt (revocation-admission.ts).
   * Undefined until the feed has loaded the stream.
   */
  known(): { state: TokenRevocationState; version: number } | undefined {
    if (this.version === undefined) return undefined;
    this.state ??= { bySubject: Object.fromEntries([...this.bySubject].map(([subject, e]) => [subject, e.revocation])) };
    return { state: this.state, version: this.version };
  }

  /** The feed has taken in every event of the stream up to `revision` (its load, then each live event). */
  caughtUp(revision: number): void {
    if (this.version === undefined || revision > this.version) this.version = revision;
  }

  /** The revocation in force for `subject`, if any. */
  of(subject: string): TokenRevocation | undefined {
    return this.bySubject.get(subject)?.revocation;
  }

  /** Every revocation in force (the latest per subject), oldest first. */
  list(): TokenRevocation[] {
    return [...this.bySubject.values()].sort((a, b) => a.revokedAtMs - b.revokedAtMs).map((e) => e.revocation);
  }

  /** Takes a recorded revocation in (a later one of the same subject replaces it), and cuts that subject's connections it revokes. */
  apply(revocation: TokenRevocation): void {
    const revokedAtMs = Date.parse(revocation.revokedAt);
    if (!Number.isFinite(revokedAtMs)) return;
    const known = this.bySubject.get(revocation.subject);
    if (known && known.revokedAtMs >= revokedAtMs) return;
    this.bySubject.set(revocation.subject, { revokedAtMs, revocation });
    this.state = undefined;
    const open = this.cuts.get(revocation.subject);
    if (!open) return;
    for (const [cut, issuedAt] of [...open]) {
      if (!this.isRevoked(revocation.subject, issuedAt)) continue;
      open.delete(cut);
      cut();
    }
    if (open.size === 0) this.cuts.delete(revocation.subject);
  }

  /**
   * Calls `cut` once when a revocation of `subject` covers a token issued at `issuedAt` (a
   * graphql-ws connection authenticated by it). Returns what forgets it (the connection closed).
   */
  onRevoked(subject: string, issuedAt: number | undefined, cut: Cut): () => void {
    let open = this.cuts.get(subject);
    if (!open) this.cuts.set(subject, (open = new Map()));
    open.set(cut, issuedAt);
    return () => {
      const current = this.cuts.get(subject);
      if (!current?.delete(cut)) return;
      if (current.size === 0) this.cuts.delete(subject);
    };
  }
}

/**
 * The rule of a revocation: it covers a token issued (`iat`, seconds since the epoch) at or before
 * its instant, up to CLOCK_TOLERANCE_SECONDS after it (see isRevoked), or without `iat` at all.
 */
export function revocationCovers(revokedAtMs: number, issuedAt: number | undefined): boolean {
  return issuedAt === undefined || issuedAt * 1000 <= revokedAtMs + CLOCK_TOLERANCE_SECONDS * 1000;
}

/** What a client is told when its token was revoked (no reason: that is for the auditors). */
export function revokedTokenMessage(revocation: TokenRevocation | undefined, now: number = Date.now()): string {
  const by = revocation ? ` at or before ${revocation.revokedAt} (or up to ${CLOCK_TOLERANCE_SECONDS} s after it, the clock tolerance)` : '';
  // The clock stepped back since the revocation: a token issued now is "before" it too, until the
  // clocks pass it again; saying only "get a new token" sent people round (clock probe, M3).
  const behind = revocation && Date.parse(revocation.revokedAt) > now ? `; this server's clock (${new Date(now).toISOString()}) is behind the revocation: tokens issued before the clocks pass it are refused too, so set the clocks right (NTP)` : '';
  return `Token revoked: the tokens of this subject issued${by} are no longer accepted; a new token from the identity provider is needed${behind}`;
}
