/**
 * Runs `work` while counting the turns of the event loop (setImmediate callbacks) that run
 * meanwhile, calling `eachTurn` at each: work done in one long task lets none run.
 */
export async function turnsDuring<T>(work: () => Promise<T>, eachTurn?: (turn: number) => void): Promise<[T, number]> {
  let turns = 0;
  let counting = true;
  const count = () => {
    if (!counting) return;
    turns++;
    eachTurn?.(turns);
    setImmediate(count);
  };
  setImmediate(count);
  try {
    const result = await work();
    return [result, turns];
  } finally {
    counting = false;
  }
}

/** Counts the turns of the event loop from now (a setImmediate callback each) until stopped: `turn` is the current one's number. */
export function turnCounter(): { readonly turn: number; stop(): void } {
  let turn = 0;
  let counting = true;
  const count = () => {
    turn++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  return {
    get turn() {
      return turn;
    },
    stop: () => void (counting = false),
  };
}
