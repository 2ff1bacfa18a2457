import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * A long list for graphql-js to complete a slice per turn of the event loop: the first `perTurn`
 * items as they are, each later slice as promises resolved one turn after the slice before.
 * graphql-js completes a list item (its fields, its sub-lists) when its value resolves, so the
 * work of a list of thousands is spread over turns instead of one task: the 13,470 entries of
 * `controlsDocument { entries }` held every other request 0.34-0.52 s (probe p10). The answer is
 * the same list, in the same order.
 */
export function listInTurns<T>(items: readonly T[], perTurn = 500): (T | Promise<T>)[] {
  const out: (T | Promise<T>)[] = items.slice(0, perTurn);
  let turn: Promise<unknown> = Promise.resolve();
  for (let i = perTurn; i < items.length; i += perTurn) {
    turn = turn.then(() => nextTurn());
    const ready = turn;
    for (const item of items.slice(i, i + perTurn)) out.push(ready.then(() => item));
  }
  return out;
}
