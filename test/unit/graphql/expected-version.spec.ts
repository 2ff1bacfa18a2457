/**
 * `expectedVersion` (contract: every input that targets an existing entity may carry it) is an
 * entity's version as last read, 0 or more: a negative one is BAD_USER_INPUT naming the field, at
 * the edge (InputValidationPipe, VersionLimit), not a CONCURRENCY_CONFLICT against the entity's
 * version, which is what it was answered until 2026-12-04 (a contract audit: `evaluateRisk` and
 * `addRiskToPlan` with -1 and -5). Every input class that declares the field carries the limit.
 */
import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputValidationPipe } from '../../../src/graphql/input-validation.pipe.js';
import { BadInputError } from '../../../src/shared/domain/errors.js';
import { RiskRefInput } from '../../../src/risk-register/graphql/risk.types.js';
import { RecordControlProgressInput } from '../../../src/risk-register/graphql/control.types.js';
import { PlanRiskInput, AcceptResidualRiskInput } from '../../../src/treatment-plan/graphql/plan.types.js';
import { RecordContextInput } from '../../../src/context/graphql/context.types.js';

const pipe = new InputValidationPipe();
const judge = async (type: Function, value: object): Promise<unknown> => {
  try {
    await pipe.transform(value, { type: 'body', metatype: type as new () => object });
    return 'accepted';
  } catch (error) {
    return error instanceof BadInputError ? error.fields : error;
  }
};

describe('expectedVersion', () => {
  const inputs: [string, Function, object][] = [
    ['RiskRefInput', RiskRefInput, { riskId: 'risk-1' }],
    ['RecordControlProgressInput', RecordControlProgressInput, { riskId: 'risk-1', controlId: 'c-1', status: 'VERIFIED' }],
    ['PlanRiskInput', PlanRiskInput, { planId: 'plan-1', riskId: 'risk-1' }],
    ['AcceptResidualRiskInput', AcceptResidualRiskInput, { planId: 'plan-1', riskId: 'risk-1' }],
    ['RecordContextInput', RecordContextInput, { internal: 'x', external: 'y' }],
  ];

  it.each(inputs)('%s: a negative one is BAD_USER_INPUT on expectedVersion; 0, a positive one or none passes', async (_name, type, rest) => {
    for (const version of [-1, -5, -2_147_483_648]) {
      expect(await judge(type, { ...rest, expectedVersion: version })).toEqual({ expectedVersion: 'must be 0 or more: the version of the entity as last read' });
    }
    for (const version of [0, 1, 2_147_483_647, undefined, null]) {
      expect([version, await judge(type, { ...rest, expectedVersion: version })]).toEqual([version, 'accepted']);
    }
  });

  it('every GraphQL input that declares expectedVersion carries VersionLimit', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) files.push(path);
      }
    };
    walk('src');
    const declarations: string[] = [];
    const unlimited: string[] = [];
    for (const file of files) {
      const lines = readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!/\bexpectedVersion\?: number;/.test(line) || !/@InputType|@Field/.test(lines.slice(Math.max(0, i - 6), i + 1).join('\n'))) return;
        declarations.push(`${file}:${i + 1}`);
        // The decorators of a property come before it: on its line, or on the lines of a multi-line
        // @Field above it, back to the line that ends the property before.
        let first = i;
        while (first > 0 && !/;\s*$|^\s*(export )?class .*\{\s*$/.test(lines[first - 1]!)) first--;
        if (!lines.slice(first, i + 1).join('\n').includes('@VersionLimit()')) unlimited.push(`${file}:${i + 1}`);
      });
    }
    expect(declarations.length).toBeGreaterThanOrEqual(23);
    expect(unlimited).toEqual([]);
  });
});
