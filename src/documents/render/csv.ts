/**
 * One register section as CSV for spreadsheets: UTF-8 with a byte-order mark (so that Excel
 * reads Japanese as UTF-8), RFC 4180 (CRLF line ends; a field with a comma, quote, CR or LF is
 * quoted, quotes doubled), a header row from the catalogue. Days and instants as ISO text
 * (instants in the zone the header names). A text starting with = + - @ or a tab is prefixed with
 * an apostrophe, so that a spreadsheet never runs a cell as a formula (CSV injection).
 */
import type { Cell, RegisterTable } from '../application/register-export.js';
import type { Language } from '../messages/index.js';
import { visibleBidiControls } from './bidi.js';
import { instantParts } from './dates.js';
import { eachInTurnsBySize } from '../../shared/application/turns.js';

const BOM = '\uFEFF';
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvField(raw: string): string {
  const value = visibleBidiControls(raw);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function text(cell: Cell, type: RegisterTable['columns'][number]['type'], lang: Language): string {
  if (cell === null) return '';
  if (typeof cell === 'number') return String(cell);
  if (type === 'instant') {
    const parts = instantParts(cell, lang);
    return parts ? `${parts.day} ${parts.time}` : cell;
  }
  return cell;
}

/** Rows written per turn of the event loop (a section of tens of thousands of rows is never one long task). */
const ROWS_PER_TURN = 1_000;
/**
 * And characters per turn, encoded to UTF-8 as they come: one Buffer.from of a 57 MB section held
 * the loop 0.9 s. A million a turn (quoted, escaped) was still ~10 ms; a quarter of it is a few ms.
 */
const CHARS_PER_TURN = 250_000;

/** The section's bytes in parts (a section of tens of MB is never copied into one buffer in one task). */
export async function registerCsv(table: RegisterTable, lang: Language, budget?: { add(bytes: number): number }): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  let pending = [`${BOM}${table.columns.map((c) => csvField(c.header)).join(',')}\r\n`];
  let pendingChars = pending[0]!.length;
  const encode = () => {
    const chunk = Buffer.from(pending.join(''), 'utf8');
    // Its bytes charged to the document's budget (DOCUMENT_MAX_BYTES) as they are encoded.
    budget?.add(chunk.length);
    chunks.push(chunk);
    pending = [];
    pendingChars = 0;
  };
  await eachInTurnsBySize(table.rows, ROWS_PER_TURN, CHARS_PER_TURN, (row) => {
    const line = `${row.map((cell, i) => csvField(text(cell, table.columns[i]!.type, lang))).join(',')}\r\n`;
    pending.push(line);
    pendingChars += line.length;
    if (pendingChars >= CHARS_PER_TURN) encode();
    return line.length;
  });
  encode();
  return chunks;
}
