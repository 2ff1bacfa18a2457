import { setImmediate as nextTurn } from 'node:timers/promises';

/** Characters encoded per turn of the event loop. */
const CHARS_PER_TURN = 1_000_000;

/**
 * A rendered document's text as UTF-8, in parts of about a million characters, one per turn of
 * the event loop: Buffer.from of a 28 MB controls record held every other request ~0.3 s
 * (hostile probe F2). A part never ends between the two halves of a surrogate pair.
 */
export async function encodeInTurns(text: string | readonly string[], budget?: { add(bytes: number): number }): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  let first = true;
  for (const piece of typeof text === 'string' ? [text] : text) {
    for (let start = 0; start < piece.length; ) {
      if (!first) await nextTurn();
      first = false;
      let end = Math.min(piece.length, start + CHARS_PER_TURN);
      const last = piece.charCodeAt(end - 1);
      if (end < piece.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
      const part = Buffer.from(piece.slice(start, end), 'utf8');
      // Each part's bytes charged to the document's budget (DOCUMENT_MAX_BYTES) as it is encoded.
      budget?.add(part.length);
      parts.push(part);
      start = end;
    }
  }
  return parts;
}
