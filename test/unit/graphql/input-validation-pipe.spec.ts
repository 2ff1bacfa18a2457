/**
 * InputValidationPipe answers as class-transformer + class-validator always did: its fast path
 * (the limits' validators run on the plain input) may only ever say "valid" where they would.
 * Random inputs around every limit, for real input classes with nested lists and for classes the
 * fast path must leave to class-validator, are judged by the pipe and by that reference.
 */
import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, IsOptional, validate, type ValidationError } from 'class-validator';
import { InputValidationPipe, judgedOnPlainValues } from '../../../src/graphql/input-validation.pipe.js';
import { IdLimit, ListLimit, NameLimit, NestedInput, TextLimit, nestedInputType } from '../../../src/graphql/input-limits.js';
import { BadInputError } from '../../../src/shared/domain/errors.js';
import { AnalyseRiskInput, DecideControlsInput, DecideTreatmentInput, WithdrawRiskInput } from '../../../src/risk-register/graphql/risk.types.js';
import { RevokeTokensInput } from '../../../src/identity/graphql/revocation.types.js';
import { RecordBoardResolutionInput } from '../../../src/treatment-plan/graphql/plan.types.js';
import { RecordContextInput } from '../../../src/context/graphql/context.types.js';
import { ImportBaselineCatalogueInput } from '../../../src/baseline-catalogues/graphql/catalogue.types.js';
import { ProposeRiskCriteriaInput } from '../../../src/risk-criteria/graphql/criteria.types.js';
import { RegisterAssetInput } from '../../../src/asset-inventory/graphql/asset.types.js';

class Leaf {
  @NameLimit() name?: string;
  @ListLimit(3) @IdLimit() ids?: string[];
}
class Inherited extends Leaf {
  @TextLimit() notes?: string;
  @ListLimit(4) @NestedInput(() => Leaf) leaves?: Leaf[];
  @NestedInput(() => Leaf) one?: Leaf;
}
/** A condition (IsOptional): only class-validator may judge it. */
class Conditional {
  @IsOptional() @NameLimit() name?: string;
  @NestedInput(() => Leaf) one?: Leaf;
}
/** A default value: plainToInstance keeps it for a missing key. */
class Defaulted {
  @NameLimit() name: string = 'x'.repeat(201);
}

/** The pipe before its fast path: class-transformer, class-validator, the same field paths. */
async function reference(type: new () => object, value: object): Promise<Record<string, string> | null> {
  const fieldsOf = (errors: ValidationError[], prefix = '', out: Record<string, string> = {}) => {
    for (const error of errors) {
      const path = /^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : prefix ? `${prefix}.${error.property}` : error.property;
      if (error.constraints) out[path] = Object.values(error.constraints).join('; ');
      if (error.children?.length) fieldsOf(error.children, path, out);
    }
    return out;
  };
  const errors = await validate(plainToInstance(type, value), { forbidUnknownValues: false, validationError: { target: false, value: false } });
  const fields = fieldsOf(errors);
  return Object.keys(fields).length ? fields : null;
}

async function judged(type: new () => object, value: object): Promise<Record<string, string> | null> {
  try {
    const out = await new InputValidationPipe().transform(value, { type: 'body', metatype: type });
    expect(out).toBe(value);
    return null;
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error;
    return (error as BadInputError & { fields: Record<string, string> }).fields;
  }
}

/** A deterministic generator of values around the limits (200 / 128 / 10,000 characters, list sizes). */
function random(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  // Mostly within every limit, sometimes at or just past one.
  // The fields' own tighter limits too (40, 50, 100, 500, 1,000), counted trimmed: some texts are padded.
  const length = () => (next() < 0.9 ? pick([0, 1, 5, 20]) : pick([40, 41, 50, 51, 100, 101, 127, 128, 129, 199, 200, 201, 500, 501, 1_000, 1_001, 10_000, 10_001]));
  const text = () => (next() < 0.1 ? ' '.repeat(pick([1, 2, 30])) : '') + 'a'.repeat(length()) + (next() < 0.1 ? ' '.repeat(pick([1, 2, 30])) : '');
  const size = () => (next() < 0.9 ? pick([0, 1, 2, 3]) : pick([4, 5, 499, 500, 501]));
  const value = (type: Function, property: string, depth: number): unknown => {
    const nested = nestedInputType(type, property);
    const list = getMetadataStorage()
      .getTargetValidationMetadatas(type, '', false, false)
      .some((m) => m.propertyName === property && m.name === 'maxItems');
    const r = next();
    if (r < 0.08) return undefined;
    if (r < 0.1) return null;
    if (nested && depth < 3) {
      if (next() < 0.3) return object(nested, depth + 1);
      return Array.from({ length: pick([0, 1, 2, 3, 4, 5]) }, () => (next() < 0.02 ? pick([null, 'x', 1]) : object(nested, depth + 1)));
    }
    if (r < (list ? 0.97 : 0.4)) return Array.from({ length: size() }, () => (next() < 0.02 ? Array.from({ length: size() }, text) : text()));
    if (r < 0.42) return pick([1, true, { a: text() }]);
    return text();
  };
  const object = (type: Function, depth = 0): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const keys = new Set(getMetadataStorage().getTargetValidationMetadatas(type, '', false, false).map((m) => m.propertyName));
    for (const key of keys) {
      const v = value(type, key, depth);
      if (v !== undefined || next() < 0.5) out[key] = v;
    }
    return out;
  };
  return { object };
}

describe('InputValidationPipe', () => {
  const classes: [string, new () => object][] = [
    ['Inherited', Inherited],
    ['Leaf', Leaf],
    ['Conditional', Conditional],
    ['AnalyseRiskInput', AnalyseRiskInput],
    ['DecideControlsInput', DecideControlsInput],
    ['ImportBaselineCatalogueInput', ImportBaselineCatalogueInput],
    ['ProposeRiskCriteriaInput', ProposeRiskCriteriaInput],
    ['RegisterAssetInput', RegisterAssetInput],
    ['RevokeTokensInput', RevokeTokensInput],
    ['DecideTreatmentInput', DecideTreatmentInput],
    ['RecordBoardResolutionInput', RecordBoardResolutionInput],
    ['RecordContextInput', RecordContextInput],
  ];

  it.each(classes)('judges random inputs of %s as class-validator does', async (_name, type) => {
    const gen = random(type.name.length * 7919);
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const input = gen.object(type);
      const expected = await reference(type, input);
      expect(await judged(type, input)).toEqual(expected);
      if (expected) refused++;
    }
    // Both answers were seen.
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(300);
  });

  it('judges the real inputs on their plain values, and leaves conditions and defaults to class-validator', () => {
    for (const [name, type] of classes) expect([name, judgedOnPlainValues(type)]).toEqual([name, name !== 'Conditional']);
    expect(judgedOnPlainValues(Defaulted)).toBe(false);
  });

  it('judges lists of inputs item by item', async () => {
    expect(await judged(Leaf, [{ name: 'ok' }, { name: 'x'.repeat(201) }])).toEqual({ '[1].name': 'must be at most 200 characters' });
    expect(await judged(Leaf, [{ name: 'ok' }, { ids: ['a'] }])).toBeNull();
  });

  it('leaves a default value of the class to class-validator', async () => {
    expect(await judged(Defaulted, {})).toEqual({ name: 'must be at most 200 characters' });
  });

  // F8: a token revocation's reason of 20,000 characters was told "at most 10000", one of 5,000 "at most 1000".
  it("names a field's own tighter limit, counted on the trimmed text as its decider counts", async () => {
    const revoke = (reason: string) => judged(RevokeTokensInput, { subject: 'mallory', reason });
    for (const n of [1_001, 5_000, 10_001, 20_000]) expect(await revoke('r'.repeat(n))).toEqual({ reason: 'must be at most 1000 characters' });
    expect(await revoke('r'.repeat(1_000))).toBeNull();
    // The decider trims: spaces around a text of 1,000 characters are not refused at the edge either.
    expect(await revoke(`  ${'r'.repeat(1_000)}\n`)).toBeNull();
    // A short text padded past the edge's own bound: that bound is the one named.
    expect(await revoke(`${'r'.repeat(900)}${' '.repeat(9_200)}`)).toEqual({ reason: 'must be at most 10000 characters, spaces around it included' });
    expect(await judged(RecordContextInput, { period: 'p'.repeat(51), scope: 's', internalIssues: ['i'], externalIssues: ['e'], interestedParties: Array.from({ length: 201 }, (_, i) => `party ${i}`) })).toEqual({
      period: 'must be at most 50 characters',
      interestedParties: 'must have at most 200 items',
    });
  });

  it('refuses a blank id as missing, not looked up as an id (hostile probe of 2026-12-06, L6)', async () => {
    for (const riskId of ['', '   ', '\t', '\u2060', '\u200b ']) expect(await judged(WithdrawRiskInput, { riskId, reason: 'duplicate' })).toEqual({ riskId: 'must not be blank: an id names an entity' });
    expect(await judged(WithdrawRiskInput, { riskId: 'r-1', reason: 'duplicate', commandId: ' ' })).toEqual({ commandId: 'must not be blank: an id names an entity' });
    expect(await judged(WithdrawRiskInput, { riskId: 'r-1', reason: 'duplicate' })).toBeNull();
  });

  it('refuses a list far past every limit with its path', async () => {
    expect(await judged(Inherited, { leaves: [{ ids: Array.from({ length: 2_001 }, () => 'a') }] })).toEqual({
      'leaves[0].ids': 'must have at most 500 items',
    });
  });
});
