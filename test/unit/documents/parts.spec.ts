/**
 * Documents of tens of MB are encoded in parts, one per turn of the event loop (hostile probe F2:
 * a 57 MB CSV section and a 28 MB controls record held every other request 0.2-0.9 s).
 */
import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { registerCsv } from '../../../src/documents/render/csv.js';
import { encodeInTurns } from '../../../src/documents/render/encode-in-turns.js';
import { markdownTemplate, renderedInSlices } from '../../../src/documents/render/handlebars.js';
import { turnsDuring } from '../../support/turns.js';
import { eachInTurnsBySize } from '../../../src/shared/application/turns.js';
import ExcelJS from 'exceljs';
import { registerXlsx } from '../../../src/documents/render/xlsx.js';
import { messagesFor } from '../../../src/documents/messages/index.js';

describe('documents in parts', () => {
  it('encodeInTurns: the same bytes as one Buffer.from, never splitting a surrogate pair, over several turns', async () => {
    // '𠮷' (U+20BB7) is two UTF-16 units: placed so that a part of 1,000,000 would end between them.
    const text = `${'a'.repeat(999_999)}𠮷${'い'.repeat(1_500_000)}😀`;
    const [parts, turns] = await turnsDuring(() => encodeInTurns(text));
    expect(parts.length).toBe(3);
    expect(Buffer.concat(parts).equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(await encodeInTurns('')).toEqual([]);
    // Parts of a rendered text, each cut the same way: the same bytes as their join.
    const pieces = ['x'.repeat(1_500_000), 'é', `${'y'.repeat(999_999)}😀`];
    expect(Buffer.concat(await encodeInTurns(pieces)).equals(Buffer.from(pieces.join(''), 'utf8'))).toBe(true);
  });

  it('renderedInSlices: a slice also ends at 250,000 characters of weight (at least one item), each in its own turn; the same text', async () => {
    type V = { items: { text: string }[] };
    const source = '# head\n{{#each items}}\n- {{text}}\n{{/each}}\ntail\n';
    const items = [...Array.from({ length: 5 }, () => ({ text: 'a'.repeat(100_000) })), { text: 'b' }, { text: 'c' }];
    const slices: number[] = [];
    const sliced = renderedInSlices<V>(source, 'items', markdownTemplate, 100, (slice) => (slices.push(slice.length), slice), (item) => (item as { text: string }).text.length);
    const [parts, turns] = await turnsDuring(() => sliced({ items }));
    expect(slices).toEqual([3, 4]);
    expect(turns).toBeGreaterThanOrEqual(1);
    expect(parts.join('')).toBe(markdownTemplate<V>(source)({ items }));
  });

  it('registerCsv: rows of 10,000-character cells are encoded 250,000 characters per turn, and read back whole', async () => {
    const big = 'x'.repeat(10_000);
    const table = {
      section: 'controls' as const,
      name: 'controls',
      columns: [
        { key: 'control' as const, header: 'control', type: 'text' as const, width: 10 },
        { key: 'reason' as const, header: 'reason', type: 'text' as const, width: 10 },
      ],
      rows: Array.from({ length: 300 }, (_, i) => [`c${i}`, `${big},${i}`]),
    };
    const [parts, turns] = await turnsDuring(() => registerCsv(table, 'en'));
    // 300 rows of ~10 KB: 3 MB, in parts of about 250,000 characters, each encoded in its own turn.
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(turns).toBeGreaterThanOrEqual(2);
    const records = parse(Buffer.concat(parts), { bom: true }) as string[][];
    expect(records).toHaveLength(301);
    expect(records[300]).toEqual(['c299', `${big},299`]);
  });

  it('registerXlsx: rows of 10,000-character cells (written 250,000 characters per turn: eachInTurnsBySize) load whole', async () => {
    const big = 'z'.repeat(10_000);
    const view = {
      lang: 'en' as const,
      m: messagesFor('en'),
      recordedAt: '2026-11-30T00:00:00.000Z',
      source: { heading: 'Source', position: '1', rows: [{ label: 'Position', value: '1' }], regenerateText: 'Again', regenerateUrl: null },
      tables: [{ section: 'controls' as const, name: 'Controls', columns: [{ key: 'description' as const, header: 'Description', type: 'text' as const, width: 40 }], rows: Array.from({ length: 100 }, (_, i) => [`${i} ${big}`]) }],
    } as unknown as Parameters<typeof registerXlsx>[0];
    const xlsx = await registerXlsx(view);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx as never);
    expect(workbook.getWorksheet('Controls')!.getColumn(1).values.slice(2)).toHaveLength(100);
  });

  it('eachInTurnsBySize: a turn ends after perTurn items or once their weights reach weightPerTurn, at least one item a turn', async () => {
    let turn = 0;
    const seen: number[][] = [];
    const weights = [5, 5, 20, 1, 1, 1, 1, 1, 30, 2];
    await turnsDuring(
      () => eachInTurnsBySize(weights.map((w, i) => ({ w, i })), 4, 10, ({ w, i }) => {
        (seen[turn] ??= []).push(i);
        return w;
      }),
      (n) => (turn = n),
    );
    expect(seen.filter(Boolean)).toEqual([[0, 1], [2], [3, 4, 5, 6], [7, 8], [9]]);
  });
});
