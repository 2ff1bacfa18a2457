import { Field, Int, ObjectType, type FieldMiddleware } from '@nestjs/graphql';
import type { Type } from '@nestjs/common';
import { BadInputError } from '../shared/domain/errors.js';
import { listInTurns } from './list-in-turns.js';

@ObjectType({ description: 'Where a page stands in its list (Relay cursor connections); cursors are opaque strings, valid only for the list that gave them.' })
export class PageInfo {
  @Field({ description: 'True when more items follow: ask again with after = endCursor.' }) hasNextPage!: boolean;
  @Field({ description: 'True when the page was asked for with a cursor (after), so items precede it.' }) hasPreviousPage!: boolean;
  @Field(() => String, { nullable: true, description: 'Cursor of the first edge; null on an empty page.' }) startCursor!: string | null;
  @Field(() => String, { nullable: true, description: 'Where the page ends, to pass as after for the next page: the cursor of the last edge; on a page with no edge (first: 0, or nothing left), the after it was asked with (null at the start of the list).' }) endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}
export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number | null;
}

/**
 * A page's edges completed EDGES_PER_TURN a turn of the event loop (listInTurns): a page of 500
 * risks with their analyses, incidents and controls was one task of 1.7-2.8 s (probe p12).
 */
const EDGES_PER_TURN = 50;
export const edgesInTurns: FieldMiddleware = async (_context, next) => {
  const edges: unknown = await next();
  return Array.isArray(edges) ? listInTurns(edges, EDGES_PER_TURN) : edges;
};

/** Relay-style connection type for a node type (`AssetConnection`, `RiskConnection`…). */
export function ConnectionType<T>(nodeType: Type<T>, name: string) {
  @ObjectType(`${name}Edge`, { description: `One item of the ${name}Connection page it is in, with its cursor.` })
  class EdgeType {
    @Field({ description: 'Opaque cursor of this item: pass it as after to continue right after it.' }) cursor!: string;
    @Field(() => nodeType, { description: 'The item.' }) node!: T;
  }
  @ObjectType(`${name}Connection`, { description: `A page of ${name} items (Relay cursor connection): at most first items (0 to 500, default 50), in the list's order.` })
  class ConnectionClass {
    @Field(() => [EdgeType], { description: 'The items of this page, in order.', middleware: [edgesInTurns] }) edges!: EdgeType[];
    @Field(() => PageInfo, { description: 'Cursors and whether more items follow.' }) pageInfo!: PageInfo;
    @Field(() => Int, { nullable: true, description: 'Number of nodes matching the filter, across all pages (null where counting would mean reading the whole log).' }) totalCount!: number | null;
  }
  return ConnectionClass;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

export function pageSize(first: number | null | undefined): number {
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw new BadInputError({ first: `must be an integer from 0 to ${MAX_PAGE_SIZE}` });
  }
  return first;
}

/** Cursors are opaque: base64url of a tagged key, so that a cursor of one list is refused by another. */
export function encodeCursor(tag: string, key: string | number): string {
  return Buffer.from(`${tag}:${key}`, 'utf8').toString('base64url');
}

export function decodeCursor(tag: string, cursor: string | null | undefined, field = 'after'): string | null {
  if (cursor === undefined || cursor === null) return null;
  // An empty cursor read as none, the first page, as an empty filter once read as no filter (scale probe of 2026-12-06, L2).
  if (cursor === '') throw new BadInputError({ [field]: 'is not a cursor of this list (leave it out for the first page)' });
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(`${tag}:`)) throw new BadInputError({ [field]: 'is not a cursor of this list' });
  return text.slice(tag.length + 1);
}

/**
 * The sequence number a cursor of a list keyed by one names (assets, plans, incidents, the access
 * log), or null for none. Only the canonical decimal the list wrote is one: a hand-made `asset:01`,
 * `asset:1e3` or `asset:-1` was read as a number and answered an empty last page (re-probe F3).
 */
export function decodeSeqCursor(tag: string, cursor: string | null | undefined): number | null {
  const key = decodeCursor(tag, cursor);
  if (key === null) return null;
  const seq = /^(0|[1-9][0-9]*)$/.test(key) ? Number(key) : NaN;
  if (!Number.isSafeInteger(seq)) throw new BadInputError({ after: 'is not a cursor of this list' });
  return seq;
}

/**
 * Where a page stands. A page with no edge ends where it began, at the cursor it was asked with:
 * `first: 0` answers hasNextPage true over a non-empty list, and "ask again with after =
 * endCursor" must then go on from there, not from an endCursor of null (the list's start).
 */
export function pageInfoOf(edges: readonly Edge<unknown>[], hasNextPage: boolean, after: string | null | undefined): PageInfo {
  const from = after ? after : null; // '' never gets here: decodeCursor and the log's reader refuse it
  return {
    hasNextPage,
    hasPreviousPage: from !== null,
    startCursor: edges[0]?.cursor ?? null,
    endCursor: edges[edges.length - 1]?.cursor ?? from,
  };
}

/** Builds a connection from rows fetched with limit first+1; after is the cursor the page was asked with. */
export function toConnection<R, T>(rows: R[], first: number, totalCount: number | null, cursorOf: (row: R) => string, toNode: (row: R) => T, after: string | null | undefined): Connection<T> {
  const page = rows.slice(0, first);
  const edges = page.map((r) => ({ cursor: cursorOf(r), node: toNode(r) }));
  return { edges, totalCount, pageInfo: pageInfoOf(edges, rows.length > first, after) };
}
