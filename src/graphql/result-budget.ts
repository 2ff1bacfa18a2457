import { QueryTooComplexError } from '../shared/domain/errors.js';

/**
 * What one request may gather from the lists that have no page (an entity's `history`, its
 * `comments` and `evidence`, see the README's "Unpaged lists" for all) and from pages of the log (`events`, whose pages end at READ_PAGE_BYTES): 16 MB of
 * their JSON. The cost estimator prices a field before it runs and cannot
 * know how long an entity's history is: 200 aliases of the history of a risk carrying 2,000
 * comments of 10,000 characters (20 MB each, within the cost budget) read 4 GB and ended the
 * process out of memory. Their resolvers run one after another within a request, each charging
 * what it read; past the budget the next one is refused before it reads (QUERY_TOO_COMPLEX), so a
 * request holds at most the budget plus one entity's list.
 */
export const resultBudget = { bytes: 16 * 1024 * 1024, linkedEntities: 10_000 }; // tests lower them

interface Budget {
  used: number;
  /** Entities the request's linked lists have returned so far (see chargeLinkedEntities). */
  linked: number;
  /** The previous gathering of this request: the next one starts after it. */
  tail: Promise<unknown>;
}

/** One budget per request context (the object Apollo hands every resolver of a request). */
const budgets = new WeakMap<object, Budget>();

function budgetOf(context: object): Budget {
  let budget = budgets.get(context);
  if (!budget) {
    budget = { used: 0, linked: 0, tail: Promise.resolve() };
    budgets.set(context, budget);
  }
  return budget;
}

/**
 * Runs `read` after the request's earlier unpaged reads, once the budget still has room, and
 * charges `bytes(result)` to it. A `paged` read (a page of the log, bounded by READ_PAGE_BYTES on
 * its own; a page of risks or assets, bounded by the budget as it is read: PageBudget) is answered
 * once read, even past the budget: only the reads after it are refused. A page refused while it is
 * read is charged what it had read (the refusal's cost), so the reads after it are refused before
 * they read: 40 aliases of a page of assets each read 17 MB again before their refusal.
 */
export function withinResultBudget<T>(context: object, what: string, read: () => Promise<T>, bytes: (result: T) => number, paged = false): Promise<T> {
  const b = budgetOf(context);
  const run = b.tail.then(async () => {
    requireRoom(b, what);
    let result: T;
    try {
      result = await read();
    } catch (error) {
      if (paged && error instanceof QueryTooComplexError) b.used += error.cost;
      throw error;
    }
    spend(b, what, bytes(result), paged);
    return result;
  });
  b.tail = run.catch(() => undefined);
  return run;
}

/**
 * Charges `count` entities of a list of linked entities (Incident.risks, Risk.incidents,
 * Analysis.incidents) to the request, before they are built; past
 * `resultBudget.linkedEntities` the list is refused (QUERY_TOO_COMPLEX). The cost estimator prices
 * such a list at COST.linkedItems, as it cannot know how many links an entity has: 90 aliases of
 * an incident linked to 500 risks built 45,000 risk views for a request priced as 4,500, and an
 * incident may be linked to every risk of the register.
 */
export function chargeLinkedEntities(context: object, what: string, count: number): void {
  const b = budgetOf(context);
  b.linked += count;
  if (b.linked > resultBudget.linkedEntities) {
    throw new QueryTooComplexError(
      b.linked,
      resultBudget.linkedEntities,
      `The request's lists of linked entities (an incident's risks, a risk's or an analysis's incidents) hold more than ${resultBudget.linkedEntities} entities (${what} passed it): ask for fewer aliases or levels, or page the risks with risks(first, after)`,
    );
  }
}

/**
 * Charges `bytes` read for a field that is not a page of its own (a risk's controls, analyses and
 * reviews, an asset's threats, the controls record's entries) to the request's result budget, at
 * once: past it the field is refused (QUERY_TOO_COMPLEX). Controls are lists of up to 500 with
 * texts of 10,000 characters: 12 aliases of risks(first: 500) over risks with 120 such controls
 * answered HTTP 500 after 13.6 s (RangeError: Invalid string length in the answer's JSON) and held
 * the event loop for 5 s (hostile-input probe, 2026-12-04). Threats, analyses and attachments have
 * no limit in number: 60 aliases of an asset of 2,000 threats, 90 of a risk analysed 600 times,
 * answered HTTP 500 the same way, and three of the first at once ended the process out of memory
 * (hostile probe of 2026-12-07, F2).
 */
export function chargeResultBytes(context: object, what: string, bytes: number): void {
  const b = budgetOf(context);
  requireRoom(b, what);
  spend(b, what, bytes);
}

/**
 * chargeResultBytes for a list read on demand (a risk's analyses and reviews, rows of their own):
 * refused before it reads once the request's budget is spent, then charged. Read first and charged
 * after, each of 90 aliases read and parsed a risk's 300 analyses again before its refusal: 15 s
 * for one request, 53 s for three at once (hostile re-probe of 2026-12-07, A).
 */
export function chargedRead<T>(context: object, what: string, read: () => T): T {
  const b = budgetOf(context);
  requireRoom(b, what);
  const value = read();
  spend(b, what, approxJsonBytes(value));
  return value;
}

/** Per request, the values (a page's risks) whose bytes their page already charged. */
const chargedWithPage = new WeakMap<object, WeakSet<object>>();

/** Marks `values` as charged by the page they came in: a field under them (a risk's controls) charges nothing again. */
export function markChargedWithPage(context: object, values: readonly object[]): void {
  let set = chargedWithPage.get(context);
  if (!set) chargedWithPage.set(context, (set = new WeakSet()));
  for (const v of values) set.add(v);
}

/** Whether `value` came in a page that charged its bytes (markChargedWithPage). */
export function isChargedWithPage(context: object, value: object): boolean {
  return chargedWithPage.get(context)?.has(value) ?? false;
}

/** Refuses a read once the request's budget is already spent. */
function requireRoom(b: Budget, what: string): void {
  if (b.used > resultBudget.bytes) throw refusal(b.used, what);
}

/** Charges what was read; past the budget it is refused, unless `paged` (answered, the next read refused). */
function spend(b: Budget, what: string, bytes: number, paged = false): void {
  b.used += bytes;
  if (!paged && b.used > resultBudget.bytes) throw refusal(b.used, what);
}

/** About the bytes of `value`'s JSON, without building it: its strings' UTF-8, and a few bytes for each key and other value. */
export function approxJsonBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8') + 2;
  if (value === null || typeof value !== 'object') return 8;
  let n = 2;
  if (Array.isArray(value)) for (const v of value) n += approxJsonBytes(v) + 1;
  else for (const k in value) n += k.length + 4 + approxJsonBytes((value as Record<string, unknown>)[k]);
  return n;
}

function refusal(used: number, what: string): QueryTooComplexError {
  const mb = (resultBudget.bytes / 1024 / 1024).toFixed(1);
  return new QueryTooComplexError(
    used,
    resultBudget.bytes,
    `The request's histories, comments, evidence lists, catalogue requirements, plans, controls records, pages of risks and of assets, risks' controls, analyses and reviews, assets and their threats, criteria and context versions and pages of events hold more than ${mb} MB (${what} passed it): ask for fewer entities in one request, or read the log in pages with events(after, first, types)`,
  );
}

/** The JSON size of a value in bytes, as the answer will carry it (UTF-8: a Japanese character is 3). */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
}
