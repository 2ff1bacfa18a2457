import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { registerCsv, csvField } from '../../../src/documents/render/csv.js';
import { formatDay, formatInstant, japaneseEraDate, spreadsheetInstant } from '../../../src/documents/render/dates.js';
import { htmlTemplate, markdownInline, markdownTemplate, renderedInSlices } from '../../../src/documents/render/handlebars.js';
import { PLAN_HTML } from '../../../src/documents/templates/plan.html.js';
import { PLAN_MARKDOWN } from '../../../src/documents/templates/plan.md.js';
import type { PlanDocumentView } from '../../../src/documents/application/plan-document.js';
import { registerXlsx, xmlText } from '../../../src/documents/render/xlsx.js';
import { dosDateTime } from '../../../src/documents/render/zip-timestamps.js';
import ExcelJS from 'exceljs';
import { controlsMarkdown } from '../../../src/documents/application/documents.service.js';
import { controlsDocumentFrame, controlsEntryView, type ControlsDocumentTemplateView } from '../../../src/documents/application/controls-document-view.js';
import type { ControlsDocumentEntry } from '../../../src/risk-register/application/controls-document.js';
import { messagesFor } from '../../../src/documents/messages/index.js';
import { CONTROLS_MARKDOWN } from '../../../src/documents/templates/controls.md.js';

describe('dates in the documents', () => {
  it('gives Japanese documents both calendars, across the Heisei/Reiwa boundary', () => {
    expect(japaneseEraDate('2019-04-30')).toBe('平成31年4月30日');
    expect(japaneseEraDate('2019-05-01')).toBe('令和元年5月1日');
    expect(japaneseEraDate('2020-01-01')).toBe('令和2年1月1日');
    expect(formatDay('2026-11-30', 'ja')).toBe('令和8年11月30日（2026-11-30）');
    expect(formatDay('1989-01-07', 'ja')).toBe('昭和64年1月7日（1989-01-07）');
    expect(formatDay('1989-01-08', 'ja')).toBe('平成元年1月8日（1989-01-08）');
    expect(formatDay('2026-11-30', 'en')).toBe('2026-11-30');
  });

  it('shows instants as the day and time in Japan (ja) or UTC (en), whatever the machine zone', () => {
    // 2019-04-30T15:00Z is already 1 May in Japan: the first day of Reiwa.
    expect(formatInstant('2019-04-30T15:00:00.000Z', 'ja')).toBe('令和元年5月1日（2019-05-01）00:00:00 JST');
    expect(formatInstant('2019-04-30T14:59:59.000Z', 'ja')).toBe('平成31年4月30日（2019-04-30）23:59:59 JST');
    expect(formatInstant('2019-04-30T15:00:00.000Z', 'en')).toBe('2019-04-30 15:00:00 UTC');
    expect(spreadsheetInstant('2026-11-30T15:30:00.000Z', 'ja')?.toISOString()).toBe('2026-12-01T00:30:00.000Z');
  });
});

describe('bidirectional controls in free text ("Trojan Source")', () => {
  it('are shown as their code points in Markdown, CSV and XLSX cells, so that no text after one is reordered on its line', () => {
    const text = 'Wallet\u202Eexe.pdf \u2066x\u2069 done';
    expect(markdownInline(text)).toBe('Wallet\\[U+202E\\]exe.pdf \\[U+2066\\]x\\[U+2069\\] done');
    expect(csvField(text)).toBe('Wallet[U+202E]exe.pdf [U+2066]x[U+2069] done');
    expect(xmlText(text)).toBe('Wallet[U+202E]exe.pdf [U+2066]x[U+2069] done');
    // Marks that only set a direction (LRM, RLM, ALM) reorder nothing after them: kept.
    expect(csvField('a\u200Fb')).toBe('a\u200Fb');
  });

  it('are shown as their code points in the HTML plan too: a cell ends an override, but inside it the text is still reordered (probe 7)', () => {
    const page = htmlTemplate<{ title: string }>('<td>{{title}}</td><p>\u200F{{title}}</p>')({ title: 'Wallet\u202Eexe.pdf <b>' });
    expect(page).toBe('<td>Wallet[U+202E]exe.pdf &lt;b&gt;</td><p>\u200FWallet[U+202E]exe.pdf &lt;b&gt;</p>');
  });
});

describe('CSV (RFC 4180, UTF-8 with BOM)', () => {
  it('quotes only what needs it, doubles quotes, and disarms formulas', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@SUM(A1)')).toBe(`'@SUM(A1)`);
  });

  it('round-trips through csv-parse', async () => {
    const table = {
      section: 'controls' as const,
      name: '管理策',
      columns: [
        { key: 'control' as const, header: '管理策', type: 'text' as const, width: 10 },
        { key: 'due' as const, header: '期限', type: 'day' as const, width: 10 },
        { key: 'decidedAt' as const, header: '決定日時（日本時間）', type: 'instant' as const, width: 10 },
        { key: 'cycle' as const, header: 'サイクル', type: 'integer' as const, width: 10 },
      ],
      rows: [['鍵を"分割",\r\n保管', '2027-03-31', '2026-11-30T15:30:00.000Z', 2], [null, null, null, null]],
    };
    const csv = Buffer.concat(await registerCsv(table, 'ja'));
    expect([...csv.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(csv.toString('utf8').endsWith('\r\n')).toBe(true);
    const records = parse(csv, { bom: true }) as string[][];
    expect(records).toEqual([
      ['管理策', '期限', '決定日時（日本時間）', 'サイクル'],
      ['鍵を"分割",\r\n保管', '2027-03-31', '2026-12-01 00:30:00', '2'],
      ['', '', '', ''],
    ]);
  });
});

describe('Markdown escaping of user text', () => {
  it('keeps a value on one line and neutralises markup and inline HTML', () => {
    expect(markdownInline('a | b\nc')).toBe('a \\| b c');
    expect(markdownInline('<script>alert(1)</script>')).toBe('\\<script\\>alert(1)\\</script\\>');
    expect(markdownInline('# not a heading *bold* [link](x) `code`')).toBe('\\# not a heading \\*bold\\* \\[link\\](x) \\`code\\`');
    expect(markdownInline('R&D ~~x~~')).toBe('R&D \\~\\~x\\~\\~');
    expect(markdownInline(null)).toBe('');
  });
});

describe('the controls document rendered a slice of entries at a time', () => {
  const m = messagesFor('ja');
  const whole = markdownTemplate<ControlsDocumentTemplateView>(CONTROLS_MARKDOWN);
  const entry = (i: number): ControlsDocumentEntry => ({
    riskId: `risk-${i}`,
    riskTitle: `リスク ${i} | *鍵*`,
    riskStatus: i % 2 ? 'ACCEPTED' : 'IN_PLAN',
    ownerId: `owner-${i}`,
    level: i % 5 ? 'HIGH' : null,
    targetLevel: 'LOW',
    treatmentOptions: i % 4 ? ['REDUCE'] : ['REDUCE', 'SHARE'],
    treatmentRationale: i % 3 ? 'コールドウォレット' : null,
    counterparty: i % 4 ? null : '保険会社',
    contractReference: i % 4 ? null : 'POL-1',
    controls:
      i % 3 === 0
        ? []
        : [{ controlId: `c-${i}`, id: `c-${i}`, title: 'マルチシグ', description: i % 2 ? '3鍵中2鍵' : '', ownerId: 'ops', dueDate: '2027-03-31', reason: '単一の鍵で動かない', reference: i % 4 ? undefined : 'REF-1', status: 'PLANNED', progressPercent: 0, overdue: false }],
  }) as ControlsDocumentEntry;
  const at = { head: { position: '0000000000000000042', recordedAt: '2026-11-30T00:00:00.000Z' }, riskId: null } as Parameters<typeof controlsDocumentFrame>[3];

  it('is the same text as the whole template in one call, whatever the number of entries', async () => {
    for (const n of [0, 1, 199, 200, 201, 450]) {
      for (const source of [at, null]) {
        const entries = Array.from({ length: n }, (_, i) => entry(i));
        const frame = controlsDocumentFrame(entries, 'ja', m, source);
        const oneCall = whole({ ...frame, entries: entries.map((e) => controlsEntryView(e, 'ja', m)) });
        expect((await controlsMarkdown(frame, entries)).join('')).toBe(oneCall);
        if (n > 0) expect(oneCall).toContain(`リスク ${n - 1} \\| \\*鍵\\*`);
      }
    }
    expect((await controlsMarkdown(controlsDocumentFrame([], 'ja', m, at), [])).join('')).toContain(m.controls.noControls);
  });
});

describe('the register workbook holds only what XML can carry', () => {
  it('writes a control, U+FFFE, U+FFFF or a lone surrogate of an older log as U+FFFD, and the workbook still loads (probe p10)', async () => {
    expect(xmlText('tab\tline\r\nok 𠮷 \uE000 \uFFFD')).toBe('tab\tline\r\nok 𠮷 \uE000 \uFFFD');
    const texts = ['see \uFFFE here', 'bell\u0007 here', 'end \uFFFF', 'lone \ud800 one', 'nul\u0000'];
    const m = messagesFor('en');
    const view = {
      lang: 'en' as const,
      m,
      recordedAt: '2026-11-30T00:00:00.000Z',
      source: { heading: 'Source', position: '1', rows: [{ label: 'Position', value: '1' }], regenerateText: 'Again', regenerateUrl: null },
      tables: [{ section: 'controls' as const, name: 'Controls', columns: [{ key: 'description' as const, header: 'Description', type: 'text' as const, width: 40 }], rows: texts.map((t) => [t]) }],
    } as unknown as Parameters<typeof registerXlsx>[0];
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load((await registerXlsx(view)) as never);
    const cells = workbook.getWorksheet('Controls')!.getColumn(1).values.slice(2);
    expect(cells).toEqual(['see \uFFFD here', 'bell\uFFFD here', 'end \uFFFD', 'lone \uFFFD one', 'nul\uFFFD']);
  });
});

describe('the register workbook is the same bytes at the same position (its zip entries dated by the log)', () => {
  const view = (recordedAt: string | null) =>
    ({
      lang: 'en' as const,
      m: messagesFor('en'),
      recordedAt,
      source: { heading: 'Source', position: '7', rows: [{ label: 'Position', value: '7' }], regenerateText: 'Again', regenerateUrl: null },
      tables: [{ section: 'controls' as const, name: 'Controls', columns: [{ key: 'description' as const, header: 'Description', type: 'text' as const, width: 40 }], rows: [['MFA'], ['Cold wallet']] }],
    }) as unknown as Parameters<typeof registerXlsx>[0];
  /** The DOS date and time of every local header and central directory record, as [date, time]. */
  const entryDates = (zip: Buffer): number[][] => {
    const dates: number[][] = [];
    for (let at = 0; at + 4 <= zip.length; at++) {
      const signature = zip.readUInt32LE(at);
      if (signature === 0x04034b50) dates.push([zip.readUInt16LE(at + 12), zip.readUInt16LE(at + 10)]);
      else if (signature === 0x02014b50) dates.push([zip.readUInt16LE(at + 14), zip.readUInt16LE(at + 12)]);
    }
    return dates;
  };

  it('renders again byte for byte seconds later; every entry carries the last event\'s time, not the clock', async () => {
    const first = await registerXlsx(view('2026-11-30T09:15:42.500Z'));
    // DOS time counts in 2 s steps: past the next one.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const again = await registerXlsx(view('2026-11-30T09:15:42.500Z'));
    expect(again.equals(first)).toBe(true);
    const dates = entryDates(first);
    expect(dates.length).toBeGreaterThanOrEqual(10);
    expect(new Set(dates.map((d) => d.join()))).toEqual(new Set([[(46 << 9) | (11 << 5) | 30, (9 << 11) | (15 << 5) | 21].join()]));
    // A log with no event: the start of DOS time; the workbook still loads.
    expect(new Set(entryDates(await registerXlsx(view(null))).map((d) => d.join()))).toEqual(new Set([[(1 << 5) | 1, 0].join()]));
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(again as never);
    expect(workbook.getWorksheet('Controls')!.getColumn(1).values.slice(2)).toEqual(['MFA', 'Cold wallet']);
  });

  it('dosDateTime: UTC, 2-second steps, before 1980 the start of DOS time', () => {
    expect(dosDateTime(new Date('2026-01-02T03:04:05Z'))).toEqual({ date: (46 << 9) | (1 << 5) | 2, time: (3 << 11) | (4 << 5) | 2 });
    expect(dosDateTime(new Date(0))).toEqual({ date: (1 << 5) | 1, time: 0 });
    expect(dosDateTime(new Date('1980-01-01T00:00:00Z'))).toEqual({ date: (1 << 5) | 1, time: 0 });
  });
});

describe('the plan document rendered a slice of risk sections at a time', () => {
  const m = messagesFor('ja');
  const row = (label: string, value: string) => ({ label, value });
  const view = (n: number): PlanDocumentView =>
    ({
      lang: 'ja',
      m,
      title: '情報セキュリティリスク対応計画',
      planTitle: 'FY2026 <plan> | *one*',
      basis: '第19条',
      overview: [row('計画', 'FY2026'), row('状態', '承認済み')],
      summary: Array.from({ length: n }, (_, i) => ({ no: i + 1, title: `リスク ${i} | *x*`, owner: `owner-${i}`, level: 'HIGH', treatment: '低減', residual: 'LOW', controlCount: i % 3, consent: '同意' })),
      risks: Array.from({ length: n }, (_, i) => ({
        no: i + 1,
        title: `リスク ${i} <b>`,
        rows: [row('所有者', `owner-${i}`)],
        treatment: i % 2 ? [row('選択肢', '低減')] : [],
        controls: i % 3 ? [{ title: 'マルチシグ', description: i % 4 ? '3鍵中2鍵' : '', owner: 'ops', due: '2027-03-31', reason: '単一の鍵', reference: i % 5 ? '' : 'REF-1' }] : [],
        residual: [row('残留', 'LOW')],
      })),
      resolutions: n % 2 ? [[row('決議番号', 'BR-1')]] : [],
      consentsAsked: n % 2 === 1,
      consents: Array.from({ length: n }, (_, i) => ({ risk: `リスク ${i}`, owner: `owner-${i}`, status: '同意', acceptedLevel: 'LOW', answeredAt: '2026-11-30', statement: i % 2 ? 'ok' : '', explained: i % 3 ? '—' : `2026-11-30 carol（第1版）：説明 ${i}` })),
      source: { heading: '出典', position: '0000000000000000042', rows: [row('位置', '0000000000000000042')], regenerateText: '再生成', regenerateUrl: '/documents/plans/p.md?atPosition=42' },
    }) as unknown as PlanDocumentView;

  it('is the same text as the whole template in one call, Markdown and HTML, whatever the number of items', async () => {
    for (const [source, make] of [[PLAN_MARKDOWN, markdownTemplate], [PLAN_HTML, htmlTemplate]] as const) {
      const whole = make<PlanDocumentView>(source);
      const sliced = renderedInSlices<PlanDocumentView>(source, 'risks', make, 100);
      for (const n of [0, 1, 99, 100, 101, 250]) {
        const v = view(n);
        const text = (await sliced(v)).join('');
        expect(text).toBe(whole(v));
        if (n > 0) expect(text).toContain(`${n}. `);
      }
    }
    expect(() => renderedInSlices<PlanDocumentView>('no block here', 'risks', markdownTemplate, 100)).toThrow(/no \{\{#each risks\}\} block/);
  });
});
