/**
 * What the verification of the log says, for those who act on its events outside the read
 * models: the reactions (which issue commands) and the webhook notices (which tell the world).
 * The platform's IntegrityMonitor provides it. An event a forger slipped into the log must never
 * be acted on, nor a checkpoint moved past it: a signed notice went out for a forged
 * `PlanSubmitted` 400 ms after the monitor had found it, and the shared checkpoints moved past it,
 * so that undoing the forgery left every instance BROKEN (PostgreSQL probe F1, 2026-12-05).
 */
export interface LogTrust {
  /** The first position the log fails verification at, while it does (nothing from there on is acted on); else null. */
  untrustedFrom(): string | null;
  /**
   * The position up to which every commit is verified now (null: none yet), or undefined where
   * the log has no signed chain to verify: a checkpoint is saved no further than it.
   */
  verifiedUpTo(): string | null | undefined;
  /**
   * Resolves true once every commit up to `position` is verified (asking for a verification now
   * rather than at the next look), false when the log fails verification at or before it.
   */
  verifiedThrough(position: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * Verifies the whole log now and acts on the verdict, as an auditor's verifyIntegrity does:
   * another instance reports the log failing verification (its reactions hold), which this
   * instance's own sweep would find only later (PostgreSQL probe F2: 77 s of writes meanwhile).
   */
  verifyNow?(): Promise<void>;
}

/** For stores without a signed chain (memory, KurrentDB) and for tests: everything is trusted. */
export const TRUST_EVERYTHING: LogTrust = { untrustedFrom: () => null, verifiedUpTo: () => undefined, verifiedThrough: async () => true };
