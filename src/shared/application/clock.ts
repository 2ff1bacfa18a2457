/** The application's only clock; deciders get the time through their commands. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/**
 * The server's clock: the system's, which tests in the same process may move forward through the
 * Nest container (deadlines that pass with time); nothing a client sends can move it.
 */
export class SystemClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  /** Moves this clock forward (or back) by `ms`. */
  advanceBy(ms: number): void {
    this.offsetMs += ms;
  }
}
export const CLOCK = Symbol('CLOCK');
