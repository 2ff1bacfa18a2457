/**
 * The bound on one document's size (DOCUMENT_MAX_BYTES), and its typed refusal. A risk may name
 * up to 500 assets of 200 characters, every one written into its row: 2,420 such risks rendered a
 * 237 MB register.csv that held every other request 14-20 s and 1.8 GB (2.5 GB for the workbook;
 * four at once 6.7 GB), and nothing bounded it (hostile probe of 2026-12-07, Finding 1).
 *
 * What is counted is the document's text as rendered, before compression: the characters of the
 * rows a register is written from (a lower bound of their UTF-8 bytes: one character is at least
 * one byte), then the bytes written. For a workbook that is its cells' text, not the zip's smaller
 * size: the zip's size is not what the render costs. The render stops as soon as the count passes
 * the bound, so a refused document costs at most about the bound, never the whole.
 *
 * A document is refused whole, before any byte of it is sent, rather than cut: a register or a
 * plan that silently ends early would read as complete to whoever files it.
 */
export class DocumentTooLargeError extends Error {
  readonly code = 'DOCUMENT_TOO_LARGE' as const;
  readonly status = 413;
  constructor(
    readonly maxBytes: number,
    readonly narrower: string,
    /** What had been counted when the render stopped (past maxBytes). */
    readonly reached = maxBytes + 1,
  ) {
    super(`The document would be larger than ${maxBytes} bytes (DOCUMENT_MAX_BYTES): it is refused whole rather than cut short. ${narrower}, or ask the operator to raise DOCUMENT_MAX_BYTES`);
    this.name = 'DocumentTooLargeError';
  }
}

/** What a document may still weigh while it is rendered; `add` past the bound throws DocumentTooLargeError. */
export class DocumentBudget {
  private used = 0;
  constructor(
    readonly maxBytes: number,
    /** What the client may ask instead (a section, one risk): said in the refusal. */
    readonly narrower: string,
  ) {}

  /** Counts `amount` (characters or bytes) and returns it; throws once the total passes the bound. */
  add(amount: number): number {
    this.used += amount;
    if (this.used > this.maxBytes) throw new DocumentTooLargeError(this.maxBytes, this.narrower, this.used);
    return amount;
  }

  /** Starts the count again (the rows counted, now the bytes written from them). */
  restart(): void {
    this.used = 0;
  }
}

/** Characters of a row's cells (a number or an empty cell counted as 8). */
export function cellsWeight(row: readonly (string | number | null)[]): number {
  let n = 0;
  for (const cell of row) n += typeof cell === 'string' ? cell.length : 8;
  return n;
}
