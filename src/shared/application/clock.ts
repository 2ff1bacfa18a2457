/** The application's only clock; deciders get the time through their commands. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
export const CLOCK = Symbol('CLOCK');
