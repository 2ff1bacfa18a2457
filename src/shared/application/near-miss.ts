import damerauLevenshtein from 'damerau-levenshtein';

/**
 * Whether `a` is at most `edits` insertions, deletions, substitutions or swaps of neighbours away
 * from `b` (Damerau–Levenshtein): the "did you mean" of a misspelt name (an event type, a setting).
 * Texts whose lengths differ by more than `edits` are never that close, and are not compared: the
 * distance costs time and memory in the product of the lengths, and an `events(types:)` name of
 * 10,000 characters compared with every event type held the event loop for two minutes.
 */
export function withinEdits(a: string, b: string, edits: number): boolean {
  return Math.abs(a.length - b.length) <= edits && damerauLevenshtein(a, b).steps <= edits;
}
