/**
 * The register as an XLSX workbook written with exceljs: a cover sheet (title, basis, the log
 * position and head hash it was rendered from), then one sheet per section with a bold header
 * row frozen at the top, an auto filter over the table, column widths for their content, days
 * and instants as real dates (formatted cells), numbers as numbers. Text cells are stored as
 * strings, never formulas.
 */
import ExcelJS from 'exceljs';
import type { RegisterExport } from '../application/register-export.js';
import { spreadsheetDay, spreadsheetInstant } from './dates.js';

const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE7E6E6' } };

export async function registerXlsx(view: RegisterExport): Promise<Buffer> {
  const { m, lang } = view;
  const workbook = new ExcelJS.Workbook();
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

  for (const table of view.tables) {
    const sheet = workbook.addWorksheet(table.name, { views: [{ state: 'frozen', xSplit: 0, ySplit: 1, topLeftCell: 'A2', activeCell: 'A2' }] });
    sheet.columns = table.columns.map((c) => ({
      key: c.key,
      width: c.width,
      style: c.type === 'day' ? { numFmt: 'yyyy-mm-dd' } : c.type === 'instant' ? { numFmt: 'yyyy-mm-dd hh:mm:ss' } : {},
    }));
    const header = sheet.addRow(table.columns.map((c) => c.header));
    header.font = { bold: true };
    header.alignment = { vertical: 'middle', wrapText: true };
    header.eachCell((cell) => (cell.fill = HEADER_FILL));
    for (const row of table.rows) {
      sheet.addRow(
        row.map((cell, i) => {
          const type = table.columns[i]!.type;
          if (cell === null) return null;
          if (type === 'day') return spreadsheetDay(String(cell)) ?? cell;
          if (type === 'instant') return spreadsheetInstant(String(cell), lang) ?? cell;
          return cell;
        }),
      );
    }
    sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: Math.max(1, table.rows.length + 1), column: table.columns.length } };
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
