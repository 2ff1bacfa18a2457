/**
 * listInTurns: a long list that graphql-js completes a slice per turn of the event loop (probe
 * p10: the 13,470 entries of controlsDocument held every other request 0.34-0.52 s).
 */
import { describe, expect, it } from '@jest/globals';
import { graphql, GraphQLInt, GraphQLList, GraphQLObjectType, GraphQLSchema } from 'graphql';
import { listInTurns } from '../../../src/graphql/list-in-turns.js';
import { edgesInTurns } from '../../../src/graphql/pagination.js';
import { turnsDuring } from '../../support/turns.js';

describe('listInTurns', () => {
  it('is the same list in the same order; a short one is returned as it is', async () => {
    const items = Array.from({ length: 1_234 }, (_, i) => ({ n: i }));
    expect(await Promise.all(listInTurns(items, 100))).toEqual(items);
    expect(listInTurns([1, 2, 3], 100)).toEqual([1, 2, 3]);
    expect(listInTurns([], 100)).toEqual([]);
  });

  it('lets graphql-js complete the list a slice per turn of the event loop', async () => {
    const items = Array.from({ length: 2_000 }, (_, i) => ({ n: i }));
    const Item = new GraphQLObjectType({ name: 'Item', fields: { n: { type: GraphQLInt } } });
    const schema = (list: () => unknown[]) =>
      new GraphQLSchema({ query: new GraphQLObjectType({ name: 'Query', fields: { items: { type: new GraphQLList(Item), resolve: list } } }) });
    const [inTurns, turns] = await turnsDuring(() => graphql({ schema: schema(() => listInTurns(items, 200)), source: '{ items { n } }' }));
    const [atOnce, none] = await turnsDuring(() => graphql({ schema: schema(() => items), source: '{ items { n } }' }));
    expect(inTurns).toEqual(atOnce);
    expect((inTurns.data as { items: unknown[] }).items).toHaveLength(2_000);
    expect([turns >= 9, none]).toEqual([true, 0]);
  });
});

describe('edgesInTurns (every connection type`s edges)', () => {
  it('hands a page of 500 edges to graphql-js 50 a turn, the same edges in the same order', async () => {
    const edges = Array.from({ length: 500 }, (_, i) => ({ cursor: `c${i}`, node: { n: i } }));
    const handed = (await edgesInTurns({} as never, async () => edges)) as unknown[];
    expect(handed.slice(0, 50)).toEqual(edges.slice(0, 50));
    expect(handed.filter((e) => e instanceof Promise)).toHaveLength(450);
    const [resolved, turns] = await turnsDuring(() => Promise.all(handed));
    expect(resolved).toEqual(edges);
    // Nine slices after the first, each a turn after the one before (a turn or two may pass before counting starts).
    expect(turns).toBeGreaterThanOrEqual(6);
    expect(await edgesInTurns({} as never, async () => null)).toBeNull();
  });
});
