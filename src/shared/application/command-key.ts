/**
 * The idempotency key of a client's command: its actor and its `commandId`, which the store keeps
 * unique. Both may hold `:` (a token's `sub` may, and a commandId is letters, digits and `. _ : -`),
 * so the actor's id is escaped (`%` as `%25`, `:` as `%3A`) and the first `:` ends it: user
 * `committee-1` with `x:k` and user `committee-1:x` with `k` made one key, the second refused for a
 * key it never used or answered with the other's result (review of 2026-12-07, M1). An id holding
 * neither reads as before, so the keys already recorded still answer their retries.
 */
export function idempotencyKeyOf(actorId: string, commandId: string): string {
  return `${actorId.replace(/%/g, '%25').replace(/:/g, '%3A')}:${commandId}`;
}
