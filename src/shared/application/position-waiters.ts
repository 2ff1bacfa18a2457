/**
 * "Resolve when a follower of the log has reached this position": the read-your-writes wait of
 * the projection runner and of the process manager. Positions compare as strings (their order is
 * the log's). Once the follower has failed, every present and future wait rejects at once.
 */
export class PositionWaiters {
  private position: string | null = null;
  private failure?: Error;
  private waiters: { position: string; resolve: () => void; reject: (error: Error) => void; failsWhileRetrying: boolean }[] = [];

  constructor(private readonly label: string) {}

  get current(): string | null {
    return this.position;
  }

  /** Forgets the position reached (a rebuild starts again from zero) and any failure. */
  reset(position: string | null = null): void {
    this.position = position;
    this.failure = undefined;
  }

  /** `failsWhileRetrying`: the wait ends (rejected) when the follower starts retrying a storage error (rejectRetrying). */
  wait(position: string, timeoutMs: number, failsWhileRetrying = false): Promise<void> {
    if (this.position !== null && this.position >= position) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`${this.label} did not reach ${position} within ${timeoutMs} ms (at ${this.position})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      this.waiters.push({ position, resolve: done, reject: fail, failsWhileRetrying });
    });
  }

  /** The follower has applied everything up to `position`. */
  advance(position: string): void {
    this.position = position;
    const ready = this.waiters.filter((w) => w.position <= position);
    this.waiters = this.waiters.filter((w) => w.position > position);
    for (const w of ready) w.resolve();
  }

  /** The follower will apply nothing from `position` on (it holds there): waits for it or later end now. */
  releaseFrom(position: string): void {
    const released = this.waiters.filter((w) => w.position >= position);
    this.waiters = this.waiters.filter((w) => w.position < position);
    for (const w of released) w.resolve();
  }

  /**
   * The follower is retrying a storage error: the waits that would not wait for it (those a new
   * wait would be refused at once) end now rather than at their timeout. A wait begun just before
   * the retries ran its whole 10 s (store-lock probe 11, L3: a mutation took 14.4 s).
   */
  rejectRetrying(error: Error): void {
    const ending = this.waiters.filter((w) => w.failsWhileRetrying);
    this.waiters = this.waiters.filter((w) => !w.failsWhileRetrying);
    for (const w of ending) w.reject(error);
  }

  /** The follower stopped: waits fail now rather than at their timeout. */
  fail(error: Error): void {
    this.failure = error;
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(error);
  }
}
