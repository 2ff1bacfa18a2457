/**
 * Documents of tens of MB are encoded in parts, one per turn of the event loop (hostile probe F2:
 * a 57 MB CSV section and a 28 MB controls record held every other request 0.2-0.9 s).
 */
import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { registerCsv } from '../../../src/documents/render/csv.js';
import { encodeInTurns } from '../../../src/documents/render/encode-in-turns.js';
import { turnsDuring } from '../../support/turns.js';

describe('documents in parts', () => {
  it('encodeInTurns: the same bytes as one Buffer.from, never splitting a surrogate pair, over several turns', async () => {
    // '𠮷' (U+20BB7) is two UTF-16 units: placed so that a part of 1,000,000 would end between them.
    const text = `${'a'.repeat(999_999)}𠮷${'い'.repeat(1_500_000)}😀`;
    const [parts, turns] = await turnsDuring(() => encodeInTurns(text));
    expect(parts.length).toBe(3);
    expect(Buffer.concat(parts).equals(Buffer.from(text, 'utf8'))).toBe(true);
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(await encodeInTurns('')).toEqual([]);
  });

  it('registerCsv: rows of 10,000-character cells are encoded a million characters per turn, and read back whole', async () => {
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
    // 300 rows of ~10 KB: 3 MB, in parts of about 1 M characters, each encoded in its own turn.
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(turns).toBeGreaterThanOrEqual(2);
    const records = parse(Buffer.concat(parts), { bom: true }) as string[][];
    expect(records).toHaveLength(301);
    expect(records[300]).toEqual(['c299', `${big},299`]);
  });
});
