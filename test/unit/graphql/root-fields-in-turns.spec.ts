/**
 * The root fields of one operation run one after another, a turn of the event loop apart (probe
 * p12: 80 aliases of heatMap, each answered synchronously, held every other request 3.3-4.6 s).
 */
import { describe, expect, it } from '@jest/globals';
import { buildSchema, graphql, type GraphQLSchema } from 'graphql';
import { rootFieldsInTurns } from '../../../src/graphql/root-fields-in-turns.js';
import { turnsDuring } from '../../support/turns.js';

function schemaWith(work: () => void): { schema: GraphQLSchema; calls: string[] } {
  const schema = buildSchema('type Query { n(i: Int!): Int! fails: Int } type Mutation { m(i: Int!): Int! }');
  const calls: string[] = [];
  schema.getQueryType()!.getFields().n!.resolve = (_s, { i }: { i: number }) => (calls.push(`n${i}`), work(), i * 2);
  schema.getQueryType()!.getFields().fails!.resolve = () => {
    throw new Error('refused');
  };
  schema.getMutationType()!.getFields().m!.resolve = async (_s, { i }: { i: number }) => (calls.push(`m${i}`), work(), i);
  return { schema: rootFieldsInTurns(schema), calls };
}
const aliases = (field: string, n: number) => Array.from({ length: n }, (_, i) => `a${i}: ${field}(i: ${i})`).join(' ');

describe('rootFieldsInTurns', () => {
  it('answers the aliases of a query as before, each in a turn of its own', async () => {
    const { schema, calls } = schemaWith(() => undefined);
    const [result, turns] = await turnsDuring(() => graphql({ schema, source: `{ ${aliases('n', 20)} }`, contextValue: {} }));
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`a${i}`, i * 2])));
    expect(calls).toEqual(Array.from({ length: 20 }, (_, i) => `n${i}`));
    expect(turns).toBeGreaterThanOrEqual(19);
  });

  it('keeps mutations in order, a turn apart, and errors where they were', async () => {
    const { schema, calls } = schemaWith(() => undefined);
    const [result, turns] = await turnsDuring(() => graphql({ schema, source: `mutation { ${aliases('m', 5)} }`, contextValue: {} }));
    expect(result.data).toEqual({ a0: 0, a1: 1, a2: 2, a3: 3, a4: 4 });
    expect(calls).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(turns).toBeGreaterThanOrEqual(4);
    const failing = await graphql({ schema, source: '{ x: n(i: 1) f: fails y: n(i: 2) }', contextValue: {} });
    expect(failing.data).toEqual({ x: 2, f: null, y: 4 });
    expect(failing.errors?.map((e) => e.message)).toEqual(['refused']);
  });

  it('two operations at once do not wait for each other', async () => {
    const { schema } = schemaWith(() => undefined);
    const [a, b] = await Promise.all([graphql({ schema, source: `{ ${aliases('n', 3)} }`, contextValue: {} }), graphql({ schema, source: '{ n(i: 7) }', contextValue: {} })]);
    expect(a.data).toEqual({ a0: 0, a1: 2, a2: 4 });
    expect(b.data).toEqual({ n: 14 });
  });
});
