import { QueryTooComplexError } from '../shared/domain/errors.js';

/**
 * The rule for a page of stored documents (a page of risks, a page of assets) read for a
 * request's result budget: each row's stored text is counted as it is read, and once the page has
 * read more than `maxBytes` it is refused (QUERY_TOO_COMPLEX) before the next row is read or any
 * is parsed. The resolver charges what the page read (`chars`) to the request's budget
 * (withinResultBudget, paged), so that the page's entities' own fields charge nothing again.
 * A risk may hold 500 controls of 10,000-character texts, an asset 1,000,000 characters of threats.
 */
export class PageBudget {
  /** The characters of the stored documents this page has read so far. */
  chars = 0;

  constructor(private readonly maxBytes: number, private readonly page: { entities: string; of: number; advice: string }) {}

  /** Counts the `index`-th row's stored `text` into the page, refused past `maxBytes`; returns the text. */
  read(text: string, index: number): string {
    this.chars += text.length;
    if (this.chars > this.maxBytes) {
      const { entities, of, advice } = this.page;
      throw new QueryTooComplexError(this.chars, this.maxBytes, `This page of ${entities} holds more than ${(this.maxBytes / 1024 / 1024).toFixed(1)} MB (${index + 1} ${entities} read of ${of}): ${advice}`);
    }
    return text;
  }
}
