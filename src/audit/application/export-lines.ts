/**
 * The lines of an NDJSON export, with a bound on their length. node's readline gathered a line
 * whatever its length: one line longer than V8's longest string (about 512 MiB) ended `verify`
 * and `import` with "RangeError: Invalid string length" and a stack, `import` having created an
 * empty store and a signing key already (probe 8-b C). A line past exportLineLimits.maxBytes is
 * refused as it is read (ExportLineTooLongError), before it is held whole.
 *
 * Lines end as readline ends them (crlfDelay: Infinity): at `\n`, `\r\n` or a lone `\r`; the
 * last line needs no line break; each line is decoded as UTF-8 on its own.
 */

/**
 * The longest line of an export that is read, in bytes (its line break excluded): 64 MiB. An
 * event of this product is at most a few MB (a GraphQL body is at most 5 MB; a catalogue of 500
 * requirements is 2.3 MB), and V8's longest string is about 512 MiB. Tests lower it.
 */
export const exportLineLimits = { maxBytes: 64 * 1024 * 1024 };

const LF = 0x0a;
const CR = 0x0d;

/** A line of an export longer than exportLineLimits.maxBytes: the file is refused (the CLI's exit 2), not read on. */
export class ExportLineTooLongError extends Error {
  constructor(
    readonly lineNumber: number,
    readonly maxBytes: number,
  ) {
    super(`line ${lineNumber} of the export is longer than ${sizeOf(maxBytes)}, the longest line read (an event of Risk Ledger is at most a few MB): it is not an export of this product, or it was altered`);
    this.name = 'ExportLineTooLongError';
  }
}

function sizeOf(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/** The lines of `input` (chunks of bytes), each at most `maxBytes` long, else ExportLineTooLongError once the line passes it. */
export async function* boundedLines(input: AsyncIterable<Buffer | Uint8Array>, maxBytes = exportLineLimits.maxBytes): AsyncGenerator<string> {
  let parts: Buffer[] = [];
  let length = 0;
  let lineNumber = 1;
  // The last chunk ended with a `\r`: a `\n` that starts the next belongs to that line break.
  let afterCR = false;
  const add = (piece: Buffer) => {
    if (length + piece.length > maxBytes) throw new ExportLineTooLongError(lineNumber, maxBytes);
    if (piece.length) parts.push(piece);
    length += piece.length;
  };
  const line = (): string => {
    const text = (parts.length === 1 ? parts[0]! : Buffer.concat(parts, length)).toString('utf8');
    parts = [];
    length = 0;
    lineNumber++;
    return text;
  };
  for await (const data of input) {
    const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
    let start = 0;
    if (afterCR && chunk.length) {
      if (chunk[0] === LF) start = 1;
      afterCR = false;
    }
    // A `\r` is rare (canonical JSON escapes it in strings): looked for again only once passed.
    let cr = chunk.indexOf(CR, start);
    while (start < chunk.length) {
      if (cr !== -1 && cr < start) cr = chunk.indexOf(CR, start);
      const lf = chunk.indexOf(LF, start);
      const end = cr !== -1 && (lf === -1 || cr < lf) ? cr : lf;
      if (end === -1) {
        add(chunk.subarray(start));
        break;
      }
      add(chunk.subarray(start, end));
      yield line();
      if (end === cr) {
        if (end + 1 === chunk.length) afterCR = true;
        start = end + 1 < chunk.length && chunk[end + 1] === LF ? end + 2 : end + 1;
      } else start = end + 1;
    }
  }
  if (length > 0) yield line();
}
