import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Calls `each` on every item in order, letting the event loop turn after every `perTurn` of them:
 * work over a whole register (a document of thousands of risks or rows, the controls record) is
 * never one long task that every other request waits behind (soak probe p9: an XLSX of 3,828
 * risks held them 2-2.8 s).
 */
export function eachInTurns<T>(items: readonly T[], perTurn: number, each: (item: T) => void): Promise<void> {
  return eachInTurnsBySize(items, perTurn, Infinity, (item) => {
    each(item);
    return 0;
  });
}

/**
 * eachInTurns for items of very different sizes: `each` returns the item's weight (its text's
 * length), and a turn also ends once the weights reach `weightPerTurn`. A thousand rows of a
 * register's controls are ~0.3 MB, or 60 MB when each control holds 10,000 characters (hostile
 * probe F2: one CSV's encoding held every other request 0.9 s).
 */
export async function eachInTurnsBySize<T>(items: readonly T[], perTurn: number, weightPerTurn: number, each: (item: T) => number): Promise<void> {
  let count = 0;
  let weight = 0;
  for (let i = 0; i < items.length; i++) {
    weight += each(items[i]!);
    count += 1;
    if ((count >= perTurn || weight >= weightPerTurn) && i + 1 < items.length) {
      count = 0;
      weight = 0;
      await nextTurn();
    }
  }
}

/**
 * `each` on every item, one after another, letting the event loop turn after every `perTurn`:
 * for asynchronous steps that usually settle at once (reads of many streams through an attempt,
 * mostly from memory), which would otherwise run as one task however many there are.
 */
export async function mapInTurns<T, R>(items: readonly T[], perTurn: number, each: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i++) {
    results.push(await each(items[i]!));
    if ((i + 1) % perTurn === 0 && i + 1 < items.length) await nextTurn();
  }
  return results;
}

/**
 * Reads every page `read(after)` returns, in order, letting the event loop turn between pages:
 * `read` returns at most `limit` items and the key to continue after; a short page is the last,
 * unless it says it was `cut` early (by its size).
 */
export async function pagesInTurns<T>(limit: number, read: (after: string | null, limit: number) => { items: T[]; last: string | null; cut?: boolean }): Promise<T[]> {
  const all: T[] = [];
  await eachPageInTurns(limit, read, (items) => {
    all.push(...items);
  });
  return all;
}

/**
 * pagesInTurns a page at a time: `each` is given each page as it is read, and no page is kept, so
 * what is held at once is one page (and what `each` keeps of it), not the whole list.
 */
export async function eachPageInTurns<T>(limit: number, read: (after: string | null, limit: number) => { items: T[]; last: string | null; cut?: boolean }, each: (items: T[]) => void | Promise<void>): Promise<void> {
  for (let after: string | null = null; ; ) {
    const { items, last, cut } = read(after, limit);
    await each(items);
    if ((items.length < limit && !cut) || last === null) return;
    after = last;
    await nextTurn();
  }
}

/**
 * Runs what it is given one per turn of the event loop, in order: callers that each took a turn
 * of their own (a setImmediate each) ran all together in the loop's next check phase, so many of
 * them held every request as one long task. Subscribers woken by the live feed (live-events.ts)
 * and graphql-ws messages of every socket (ws-hardening.ts) wait their turn in one of these.
 */
export class OnePerTurn {
  private readonly waiting: (() => void)[] = [];
  private running = false;

  take(run: () => void): void {
    this.waiting.push(run);
    if (this.running) return;
    this.running = true;
    setImmediate(this.next);
  }

  /** Whether something waits for its turn, or is running it. */
  get busy(): boolean {
    return this.running;
  }

  private readonly next = (): void => {
    const run = this.waiting.shift();
    try {
      run?.();
    } finally {
      if (this.waiting.length) setImmediate(this.next);
      else this.running = false;
    }
  };
}

/**
 * At most `perTurn` steps between two turns of the event loop, by all callers together, handed out
 * in the order they asked: a caller that finds the turn's steps taken, or others already waiting,
 * waits at the back, and the loop's next turns let the waiting go `perTurn` at a time. Without the
 * order, callers that came back first in each turn (sockets that drained first) took every step
 * while the rest got one a turn (scale probe of 2026-12-06, M2: ~180 against ~10 events/s).
 */
export class StepsPerTurn {
  private readonly waiting: (() => void)[] = [];
  private takenInTurn = 0;
  private turnPending = false;

  constructor(private readonly perTurn: number) {}

  /** Returns at once with a step of this turn, or a promise of one in a later turn. */
  step(): Promise<void> | void {
    if (this.waiting.length === 0 && this.takenInTurn < this.perTurn) {
      this.takenInTurn++;
      this.endTurnLater();
      return;
    }
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.endTurnLater();
    });
  }

  private endTurnLater(): void {
    if (this.turnPending) return;
    this.turnPending = true;
    setImmediate(this.turn);
  }

  private readonly turn = (): void => {
    this.turnPending = false;
    this.takenInTurn = 0;
    while (this.waiting.length > 0 && this.takenInTurn < this.perTurn) {
      this.takenInTurn++;
      this.waiting.shift()!();
    }
    // Those let go count against this turn's steps until the next one.
    if (this.takenInTurn > 0) this.endTurnLater();
  };
}

/**
 * The time within one turn of the event loop that work cut into slices (time-travel replays,
 * folds of a stream at a point) may take, all of it together, before the loop turns: shared, since
 * many such works start in the same turn (a request of aliases, requests arriving together).
 */
const SLICE_MS = 8;
let turnStart = 0;
let turnMarked = false;
const turnEnded = (): void => {
  turnMarked = false;
};

/** Resolves in a turn of the event loop that has slice time left: the time this slice ends. */
export async function turnSlice(): Promise<number> {
  for (;;) {
    const now = performance.now();
    if (!turnMarked) {
      turnMarked = true;
      turnStart = now;
      setImmediate(turnEnded);
    }
    if (now - turnStart < SLICE_MS) return turnStart + SLICE_MS;
    await nextTurn();
  }
}
