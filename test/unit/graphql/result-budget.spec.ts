/**
 * The request's result budget: a page of risks is charged whole (its documents hold the risks'
 * controls), so the controls field of a risk that came in it charges nothing again; a risk read
 * alone charges its controls.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { approxJsonBytes, chargedRead, chargeResultBytes, isChargedWithPage, markChargedWithPage, resultBudget, withinResultBudget } from '../../../src/graphql/result-budget.js';
import { QueryTooComplexError } from '../../../src/shared/domain/errors.js';
import { PageBudget } from '../../../src/projections/page-budget.js';
import { ControlResolver } from '../../../src/risk-register/graphql/control.resolver.js';
import type { Risk } from '../../../src/risk-register/graphql/risk.types.js';

const saved = resultBudget.bytes;
afterEach(() => {
  resultBudget.bytes = saved;
});

describe('result budget: pages of risks and their controls', () => {
  const riskWith = (id: string, controls: number): Risk =>
    ({ id, controls: Array.from({ length: controls }, (_, i) => ({ id: `c${i}`, title: `Control ${i}`, reason: 'r'.repeat(1_000) })) }) as unknown as Risk;
  const resolver = new ControlResolver(...([undefined, undefined, undefined] as unknown as ConstructorParameters<typeof ControlResolver>));

  it('charges a page once, marks its risks, and their controls are not charged again', async () => {
    const context = {};
    const inPage = riskWith('r-page', 10);
    const alone = riskWith('r-alone', 10);
    resultBudget.bytes = approxJsonBytes(inPage.controls) + 100;
    // The page's documents, about its risks' size, fill the budget (answered whole: paged).
    await withinResultBudget(context, 'risks', async () => [inPage], () => approxJsonBytes(inPage.controls) + 50, true);
    markChargedWithPage(context, [inPage]);
    expect(isChargedWithPage(context, inPage)).toBe(true);
    expect(resolver.controls(inPage, context)).toBe(inPage.controls);
    // A risk read alone is charged: past the budget, refused.
    expect(isChargedWithPage(context, alone)).toBe(false);
    expect(() => resolver.controls(alone, context)).toThrow(expect.objectContaining({ code: 'QUERY_TOO_COMPLEX' }));
    // Another request's marks are its own.
    expect(isChargedWithPage({}, inPage)).toBe(false);
    expect(() => chargeResultBytes({}, 'x', 1)).not.toThrow();
  });
});

describe('chargedRead (a list read on demand)', () => {
  it('reads, charges, and once the budget is spent refuses the next reads before they read (each of 90 aliases read a risk\'s analyses again: hostile re-probe of 2026-12-07, A)', () => {
    resultBudget.bytes = 1_000;
    const context = {};
    let reads = 0;
    const list = () => {
      reads++;
      return ['x'.repeat(400)];
    };
    expect(chargedRead(context, 'analyses of risk r1', list)).toHaveLength(1);
    expect(chargedRead(context, 'analyses of risk r1', list)).toHaveLength(1);
    expect(() => chargedRead(context, 'analyses of risk r1', list)).toThrow(QueryTooComplexError);
    expect(reads).toBe(3);
    for (let i = 0; i < 10; i++) expect(() => chargedRead(context, 'analyses of risk r1', list)).toThrow(/analyses of risk r1 passed it/);
    expect(reads).toBe(3);
  });
});

describe('a page refused while it is read (PageBudget)', () => {
  it('is charged what it read, so the pages after it are refused before they read (40 aliases of a page of assets each read 17 MB again: review of 2026-12-07, H1)', async () => {
    resultBudget.bytes = 1_000;
    const context = {};
    let rows = 0;
    const page = async () => {
      const budget = new PageBudget(resultBudget.bytes, { entities: 'assets', of: 5, advice: 'ask for a smaller page (first)' });
      for (let i = 0; i < 5; i++) {
        rows++;
        budget.read('x'.repeat(400), i);
      }
      return budget.chars;
    };
    const aliases = Array.from({ length: 10 }, () => withinResultBudget(context, 'assets', page, (chars) => chars, true));
    const outcomes = await Promise.allSettled(aliases);
    expect(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as Error).message.slice(0, 36) : 'answered'))).toEqual([
      'This page of assets holds more than ',
      ...Array.from({ length: 9 }, () => "The request's histories, comments, e"),
    ]);
    expect(rows).toBe(3);
  });
});
