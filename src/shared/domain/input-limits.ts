/**
 * Limits every input meets at the edge (contract, "Limits and hardening"): names and titles at
 * most 200 characters, ids at most 128, other text at most 10,000, lists at most 500 items. The
 * values alone, free of the decorators that apply them (src/graphql/input-limits.ts): the token
 * verifier holds claims to the name limit, and the command line that loads it must not load Nest
 * and class-transformer for a number (~260 ms of its start).
 */
export const INPUT_LIMITS = { name: 200, id: 128, text: 10_000, items: 500 } as const;
