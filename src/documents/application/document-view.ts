/** Pieces every document view shares: labelled rows, the point of the log it was rendered from. */
import type { ReplayHead } from '../../projections/as-of-replay.js';
import { LOG_START } from '../../shared/application/point-in-time.js';
import { formatInstant } from '../render/dates.js';
import type { AssetState } from '../../asset-inventory/domain/asset.state.js';
import { fill, type Language, type Messages } from '../messages/index.js';

export interface Row {
  label: string;
  value: string;
}

/** Where a document comes from, printed at its end so an auditor can regenerate and compare it. */
export interface SourceView {
  heading: string;
  /** The position of the last event rendered; LOG_START when there was none by then (the start of the log). */
  position: string;
  rows: Row[];
  regenerateText: string;
  /** The request that renders the same document again (relative URL). */
  regenerateUrl: string;
}

/** Rows with an empty value dropped (a field that does not apply is left out rather than printed blank). */
export function rows(...candidates: [string, string | null | undefined][]): Row[] {
  return candidates.filter(([, value]) => value !== null && value !== undefined && value !== '').map(([label, value]) => ({ label, value: value! }));
}

/**
 * The source block of a document rendered at `head` (the last event it holds). With no event by
 * then (atPosition 0, an asOf before the first event, an empty log) the document is at the start
 * of the log: it cites position LOG_START, says there is no event before it, and regenerates there
 * (auditor finding F10.3: it said "the log was empty at this point" of a log that was not, and
 * gave no position to regenerate it at).
 */
export function sourceView(head: ReplayHead | null, m: Messages, lang: Language, path: string, extraQuery = ''): SourceView {
  const position = head?.position ?? LOG_START;
  return {
    heading: m.source.heading,
    position,
    rows: head
      ? rows(
          [m.source.position, head.position],
          [m.source.recordedAt, formatInstant(head.recordedAt, lang)],
          head.chainHash ? [m.source.chainHash, head.chainHash] : [m.source.eventHash, head.hash],
          [m.source.language, lang],
        )
      : rows([m.source.position, LOG_START], [m.source.recordedAt, m.source.logStart], [m.source.language, lang]),
    regenerateText: m.source.regenerateText,
    regenerateUrl: `${path}?atPosition=${encodeURIComponent(position)}&lang=${lang}${extraQuery}`,
  };
}

/**
 * An asset as a document names it: its name, and when it has left the inventory (retired by an
 * avoidance, Art.17(2)) since when, so that a risk still planned or accepted on it shows it
 * (compliance probe of 2026-12-05, F3). Its id when the document's point does not know it.
 */
export function assetLabel(asset: Pick<AssetState, 'name' | 'status' | 'retiredAt'> | null, id: string, lang: Language, m: Messages): string {
  if (!asset) return id;
  return asset.status === 'RETIRED' ? fill(m.common.retiredAsset, { name: asset.name, at: formatInstant(asset.retiredAt, lang) }) : asset.name;
}
