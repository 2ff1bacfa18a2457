import type { JsonLogger } from '../../shared/logging/json-logger.js';
import type { AccessLogVerification } from './access-log-chain.js';

/**
 * One verification at a time per log (with its cross-check against the event log): a call made
 * while one runs gets that one's verdict (N callers cost one walk, not N at once). Nothing is kept
 * once it is over, so a call never gets a verdict finished before it was made; what was written
 * since the running one began is checked by the next.
 */
export class SharedVerification {
  private running: Promise<AccessLogVerification> | null = null;
  /** The last finding logged: each is logged once, not at every call that meets it again. */
  private logged: string | null = null;

  /**
   * `logger()`: where a finding is logged at error (the server's own log, beside the caller's
   * answer): an Art.23(2) record found altered was told only to whoever asked (auditor probe
   * 10-b L1). Read at each walk, so that an adapter may pass its options' logger.
   */
  constructor(private readonly logger: () => Pick<JsonLogger, 'error'> | undefined = () => undefined) {}

  run(verify: () => Promise<AccessLogVerification>): Promise<AccessLogVerification> {
    if (this.running) return this.running;
    const shared: Promise<AccessLogVerification> = verify()
      .then((report) => {
        this.report(report);
        return report;
      })
      .finally(() => {
        if (this.running === shared) this.running = null;
      });
    this.running = shared;
    return shared;
  }

  private report(report: AccessLogVerification): void {
    if (report.ok || report.reason === this.logged) return;
    this.logged = report.reason;
    this.logger()?.error('access log verification failed: it is not intact evidence', { firstBrokenSeq: report.firstBrokenSeq, reason: report.reason, entriesChecked: report.entriesChecked });
  }
}
