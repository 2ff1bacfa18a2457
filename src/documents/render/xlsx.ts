/**
 * The register as an XLSX workbook written with exceljs: a cover sheet (title, basis, the log
 * position and head hash it was rendered from), then one sheet per section with a bold header
 * row frozen at the top, an auto filter over the table, column widths for their content, days
 * and instants as real dates (formatted cells), numbers as numbers. Text cells are stored as
 * strings, never formulas.
 *
 * Written with exceljs's streaming writer, a slice of rows per turn of the event loop, and
 * compressed by zlib off the loop: the whole workbook built in memory and zipped by JSZip held
 * the loop 2-3 s for a register of 4,000 risks (every other request, /health/live included,
 * waited: soak probe p9).
 */
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import type { RegisterExport } from '../application/register-export.js';
import { visibleBidiControls } from './bidi.js';
import { spreadsheetDay, spreadsheetInstant } from './dates.js';
import { eachInTurnsBySize } from '../../shared/application/turns.js';
import { stampZipEntries } from './zip-timestamps.js';

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE7E6E6' } };

/**
 * Cells written per turn of the event loop (~5 ms of work on these machines, exceljs's row writer
 * costing ~4-5 µs a cell): a section's rows per turn follow from its width. 250 rows a turn, as
 * before 2026-12-06, were 15-30 ms a turn for sections of 12-25 columns and more on a loaded
 * machine (contract probe M1: /health 101-254 ms during register.xlsx downloads).
 */
const CELLS_PER_TURN = 1_000;
/**
 * And characters of text per turn: 250 rows of controls of 10,000 characters each were a 0.7-1.6 s
 * task of exceljs's row writer (hostile probe F2).
 */
const CHARS_PER_TURN = 250_000;

/** What XML 1.0 cannot carry (its Char production): a control but tab, LF and CR, U+FFFE, U+FFFF, a lone surrogate. */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * A text as a cell can hold it: what XML cannot carry becomes U+FFFD, visibly, and a bidirectional
 * control its code point (visibleBidiControls). Texts are refused
 * such characters since probe p10 (isWellFormedText), but a log may hold older ones: written raw,
 * U+FFFE made the workbook unreadable, and exceljs dropped controls without a trace.
 */
export function xmlText(text: string): string {
  return visibleBidiControls(text).replace(NOT_XML, '\uFFFD');
}

export async function registerXlsx(view: RegisterExport): Promise<Buffer> {
  const { m, lang } = view;
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  const written = new Promise<void>((resolve, reject) => {
    sink.on('end', resolve);
    sink.on('error', reject);
  });
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: sink, useStyles: true, useSharedStrings: false });
  // Workbook properties from the log, not the clock: the same position gives the same metadata.
  const stamp = view.recordedAt ? new Date(view.recordedAt) : new Date(0);
  workbook.creator = 'Risk Ledger';
  workbook.title = m.register.title;
  workbook.created = stamp;
  workbook.modified = stamp;

  const about = workbook.addWorksheet(m.register.sheets.about);
  about.columns = [{ width: 28 }, { width: 90 }];
  about.addRow([m.register.title]).font = { bold: true, size: 16 };
  about.addRow([m.register.basis]);
  about.addRow([]);
  about.addRow([view.source.heading]).font = { bold: true };
  for (const r of view.source.rows) about.addRow([r.label, r.value]);
  if (view.source.regenerateUrl) about.addRow([m.source.regenerate, `GET ${view.source.regenerateUrl}`]);
  about.commit();

  for (const table of view.tables) {
    const sheet = workbook.addWorksheet(table.name, { views: [{ state: 'frozen', xSplit: 0, ySplit: 1, topLeftCell: 'A2', activeCell: 'A2' }] });
    sheet.columns = table.columns.map((c) => ({
      key: c.key,
      width: c.width,
      style: c.type === 'day' ? { numFmt: 'yyyy-mm-dd' } : c.type === 'instant' ? { numFmt: 'yyyy-mm-dd hh:mm:ss' } : {},
    }));
    sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: Math.max(1, table.rows.length + 1), column: table.columns.length } };
    const header = sheet.addRow(table.columns.map((c) => c.header));
    header.font = { bold: true };
    header.alignment = { vertical: 'middle', wrapText: true };
    header.eachCell((cell) => (cell.fill = HEADER_FILL));
    header.commit();
    await eachInTurnsBySize(table.rows, Math.max(1, Math.floor(CELLS_PER_TURN / table.columns.length)), CHARS_PER_TURN, (row) => {
      sheet
        .addRow(
          row.map((cell, c) => {
            const type = table.columns[c]!.type;
            if (cell === null) return null;
            if (type === 'day') return spreadsheetDay(String(cell)) ?? cell;
            if (type === 'instant') return spreadsheetInstant(String(cell), lang) ?? cell;
            return typeof cell === 'string' ? xmlText(cell) : cell;
          }),
        )
        .commit();
      return row.reduce((n: number, cell) => n + (typeof cell === 'string' ? cell.length : 8), 0);
    });
    sheet.commit();
  }
  await workbook.commit();
  await written;
  // The zip's entries dated like the workbook, so that the same position gives the same bytes.
  return stampZipEntries(Buffer.concat(chunks), stamp);
}
