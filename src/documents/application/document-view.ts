/** Pieces every document view shares: labelled rows, the point of the log it was rendered from. */
import type { ReplayHead } from '../../projections/as-of-replay.js';
import { formatInstant } from '../render/dates.js';
import type { Language, Messages } from '../messages/index.js';

export interface Row {
  label: string;
  value: string;
}

/** Where a document comes from, printed at its end so an auditor can regenerate and compare it. */
export interface SourceView {
  heading: string;
  /** The position of the last event rendered (null: the log was empty by then). */
  position: string | null;
  rows: Row[];
  regenerateText: string;
  /** The request that renders the same document again (relative URL). */
  regenerateUrl: string | null;
}

/** Rows with an empty value dropped (a field that does not apply is left out rather than printed blank). */
export function rows(...candidates: [string, string | null | undefined][]): Row[] {
  return candidates.filter(([, value]) => value !== null && value !== undefined && value !== '').map(([label, value]) => ({ label, value: value! }));
}

export function sourceView(head: ReplayHead | null, m: Messages, lang: Language, path: string, extraQuery = ''): SourceView {
  if (!head) return { heading: m.source.heading, position: null, rows: [{ label: m.source.position, value: m.source.emptyLog }], regenerateText: '', regenerateUrl: null };
  return {
    heading: m.source.heading,
    position: head.position,
    rows: rows(
      [m.source.position, head.position],
      [m.source.recordedAt, formatInstant(head.recordedAt, lang)],
      head.chainHash ? [m.source.chainHash, head.chainHash] : [m.source.eventHash, head.hash],
      [m.source.language, lang],
    ),
    regenerateText: m.source.regenerateText,
    regenerateUrl: `${path}?atPosition=${encodeURIComponent(head.position)}&lang=${lang}${extraQuery}`,
  };
}
