import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { boundedLines, exportLineLimits, ExportLineTooLongError } from '../../../src/audit/application/export-lines.js';
import { readExport } from '../../../src/audit/application/evidence-export.js';
import { main } from '../../../src/cli/main.js';

/**
 * An export's lines are read with a bound on their length (export-lines.ts): one line longer than
 * V8's longest string ended `verify` and `import` with a RangeError and its stack, `import` having
 * created an empty store and a signing key (probe 8-b C). The bound is lowered here.
 */

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines) out.push(line);
  return out;
}

/** `bytes` cut into chunks of `size` bytes. */
function chunked(bytes: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
  return Readable.from(chunks);
}

describe('boundedLines', () => {
  const inputs = [
    'a\nb\nc\n',
    'a\nb\nc',
    '\n\na\n\n',
    'a\r\nb\r\nc\r\n',
    'a\rb\r\r\nc\r',
    '\r\n\r\n',
    'é€😀\nnon-UTF-8 \xff here\n',
    '',
    '{"a":"x"}\n'.repeat(50),
  ];
  it('ends lines as readline does (crlfDelay: Infinity), however the bytes are cut', async () => {
    for (const text of inputs) {
      const bytes = Buffer.from(text, text.includes('\xff') ? 'latin1' : 'utf8');
      const expected = await collect(createInterface({ input: Readable.from([bytes]), crlfDelay: Infinity }));
      for (const size of [1, 2, 3, 7, 64, 1 << 16]) {
        expect({ text, size, lines: await collect(boundedLines(chunked(bytes, size), 1 << 20)) }).toEqual({ text, size, lines: expected });
      }
    }
  });

  it('reads lines up to the bound, and refuses the first longer one by its number once it passes it', async () => {
    const max = 100;
    const bytes = Buffer.from(`${'a'.repeat(max)}\r\n${'b'.repeat(max)}\n${'c'.repeat(max + 1)}\nd\n`);
    for (const size of [1, 9, 1 << 16]) {
      const seen: string[] = [];
      const error = await (async () => {
        for await (const line of boundedLines(chunked(bytes, size), max)) seen.push(line);
      })().catch((e: unknown) => e);
      expect(seen).toEqual(['a'.repeat(max), 'b'.repeat(max)]);
      expect(error).toBeInstanceOf(ExportLineTooLongError);
      expect((error as ExportLineTooLongError).lineNumber).toBe(3);
      expect((error as Error).message).toMatch(/^line 3 of the export is longer than 100 bytes, the longest line read/);
    }
    // A line break is not counted: a last line of exactly the bound without one is read too.
    expect(await collect(boundedLines(chunked(Buffer.from('x'.repeat(max)), 7), max))).toEqual(['x'.repeat(max)]);
  });
});

describe('verify and import of an export with a line past the bound (probe 8-b C)', () => {
  let work: string;
  const defaultMax = exportLineLimits.maxBytes;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'risk-ledger-lines-'));
  });
  afterEach(() => {
    exportLineLimits.maxBytes = defaultMax;
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('readExport stops at it with ExportLineTooLongError, not a finding of the log', async () => {
    exportLineLimits.maxBytes = 1024;
    const file = join(work, 'long.ndjson');
    writeFileSync(file, `{"a":"${'x'.repeat(2048)}"}\n`);
    await expect(collect((async function* () {
      for await (const event of readExport(file)) yield JSON.stringify(event);
    })())).rejects.toThrow(ExportLineTooLongError);
  });

  /** The CLI in this process: its exit code, and what it wrote on stdout and stderr. */
  async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    delete process.env.DATABASE_URL;
    let stdout = '';
    let stderr = '';
    const out = process.stdout.write;
    const err = process.stderr.write;
    process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write;
    try {
      return { code: await main(args), stdout, stderr };
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  }

  it('is one line and exit 2 for verify and import, never a stack; import leaves no store or key behind', async () => {
    exportLineLimits.maxBytes = 4096;
    const file = join(work, 'export.ndjson');
    writeFileSync(file, `{"a":"${'x'.repeat(10_000)}"}\n`);
    const target = join(work, 'target');
    mkdirSync(target);
    const env = { EVENT_STORE: 'sqlite', DATA_DIR: target, SQLITE_PATH: join(target, 'events.sqlite'), JWT_SECRET: 'export-lines-test-secret-0123456789abcdef', NODE_ENV: 'test' };
    for (const command of ['verify', 'import']) {
      const r = await cli([command, file], env);
      expect({ command, code: r.code }).toEqual({ command, code: 2 });
      const ours = r.stderr.split('\n').filter((l) => l.startsWith('risk-ledger'));
      expect(ours).toEqual([`risk-ledger ${command}: line 1 of the export is longer than 4096 bytes, the longest line read (an event of Risk Ledger is at most a few MB): it is not an export of this product, or it was altered${command === 'import' ? '; nothing was imported' : ''}`]);
      expect(r.stderr + r.stdout).not.toMatch(/\n\s+at |RangeError|node:internal/);
    }
    expect(existsSync(join(target, 'events.sqlite'))).toBe(false);
    // (the kernel's lock file stays once made: src/platform/kernel-lock.ts)
    expect(readdirSync(target).filter((f) => /events\.sqlite|signing-key/.test(f) && !f.endsWith('.lock.held'))).toEqual([]);
  });
});
