/**
 * The schema as a product (issue 18): linted with graphql-schema-linter's default rules
 * (.graphql-schema-linterrc), and never broken by accident: a breaking change against the last
 * released schema (schema.released.gql) fails unless the README's "Schema changelog" lists it
 * with a reason.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { breakingChanges, unacknowledged } from './support/schema-compat.js';

const RELEASED = `
"A risk"
type Risk { "Its id" id: ID! "Its title" title: String! }
"Queries"
type Query { "One risk" risk("Its id" id: ID!): Risk }
`;

describe('the schema as a product', () => {
  it('passes graphql-schema-linter with its default rules: every type, field, argument and value described', () => {
    const run = spawnSync(process.execPath, ['node_modules/graphql-schema-linter/lib/cli.js', '--format', 'json'], { encoding: 'utf8' });
    const report = JSON.parse(run.stdout) as { errors: { message: string; rule: string }[] };
    expect(report.errors.map((e) => `${e.rule}: ${e.message}`)).toEqual([]);
  });

  it('breaks nothing of the released schema that the README does not acknowledge with a reason', async () => {
    const problems = await unacknowledged(readFileSync('schema.released.gql', 'utf8'), readFileSync('schema.gql', 'utf8'), readFileSync('README.md', 'utf8'));
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([]);
  });

  it('the check fails on a removed field and passes on an added one', async () => {
    const removed = RELEASED.replace('"Its title" title: String! ', '');
    const added = RELEASED.replace('"Its title" title: String! ', '"Its title" title: String! "Its level" level: String ');
    expect(await breakingChanges(RELEASED, removed)).toEqual([expect.objectContaining({ path: 'Risk.title' })]);
    expect(await unacknowledged(RELEASED, removed, '# x\n')).toHaveLength(1);
    expect(await unacknowledged(RELEASED, removed, '## Schema changelog\n\n- BREAKING `Risk.title`: replaced by name in 2.0\n')).toEqual([]);
    expect(await breakingChanges(RELEASED, added)).toEqual([]);
  });
});
