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
