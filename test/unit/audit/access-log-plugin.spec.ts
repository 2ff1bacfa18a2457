import { describe, expect, it } from '@jest/globals';
import { buildSchema, execute, getOperationAST, GraphQLError, parse } from 'graphql';
import { accessRecord, describeOperation, errorCode, isIdArgument, logReturnedEntities, outcomeOf } from '../../../src/audit/graphql/access-log.plugin.js';
import { InvalidPositionError } from '../../../src/event-store/hash-chain.js';
import { ForbiddenError } from '../../../src/shared/domain/errors.js';

const describeText = (query: string, variables: Record<string, unknown> = {}, name?: string) => {
  const document = parse(query);
  return describeOperation(document, getOperationAST(document, name), variables, name);
};

describe('what the access log keeps of an operation', () => {
  it('names the root fields, through fragments, and the type', () => {
    const d = describeText(`query Q { me { id } ...F ... on Query { riskCriteria { id } } } fragment F on Query { assets { totalCount } }`);
    expect(d).toEqual({ operationName: 'Q', operationType: 'query', fields: ['me', 'assets', 'riskCriteria'], targetIds: [] });
  });

  it('takes ids from literals, variables, nested inputs and lists, never commandId or other input content', () => {
    const d = describeText(
      `mutation M($input: AnalyseRiskInput!, $id: ID!) { analyseRisk(input: $input) { id } asset(id: $id) { id } plan(id: "plan-1") { id } }`,
      {
        input: { riskId: 'risk-1', commandId: 'cmd-9', method: 'DETAILED', detailed: { assessments: [{ assetId: 'asset-1', threatLevel: 3 }, { assetId: 'asset-2' }] }, baseline: { catalogueId: 'cat-1', results: [{ requirementId: 'req-1', status: 'MET' }] }, informal: { expert: 'Dr X', rationale: 'secret reasoning' } },
        id: 'asset-9',
      },
    );
    expect(d.operationType).toBe('mutation');
    expect(d.targetIds).toEqual(['risk-1', 'asset-1', 'asset-2', 'cat-1', 'req-1', 'asset-9', 'plan-1']);
    expect(JSON.stringify(d)).not.toMatch(/cmd-9|secret reasoning|Dr X/);
  });

  it('drops values that are not ids: tokens, long text', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl';
    expect(describeText(`query($a: ID!, $b: ID!) { asset(id: $a) { id } risk(id: $b) { id } }`, { a: jwt, b: 'x'.repeat(500) }).targetIds).toEqual([]);
  });

  it('recognises id-like argument names', () => {
    expect(['id', 'ids', 'assetId', 'riskIds', 'criteriaId', 'catalogueId', 'planId'].every(isIdArgument)).toBe(true);
    expect(['commandId', 'correlationId', 'causationId', 'token', 'password', 'idea', 'paid'].some(isIdArgument)).toBe(false);
  });

  it('without a parsed operation keeps only the requested name', () => {
    expect(describeOperation(undefined, undefined, undefined, 'Broken')).toEqual({ operationName: 'Broken', operationType: null, fields: [], targetIds: [] });
  });

  it('classifies outcomes: any denial wins, otherwise the first error code', () => {
    expect(outcomeOf([])).toEqual({ outcome: 'ALLOWED', errorCode: null });
    expect(outcomeOf(['NOT_FOUND', 'FORBIDDEN'])).toEqual({ outcome: 'DENIED', errorCode: 'FORBIDDEN' });
    expect(outcomeOf(['UNAUTHENTICATED'])).toEqual({ outcome: 'DENIED', errorCode: 'UNAUTHENTICATED' });
    expect(outcomeOf(['RULE_VIOLATION', 'NOT_FOUND'])).toEqual({ outcome: 'FAILED', errorCode: 'RULE_VIOLATION' });
  });

  it('records the code the client was told, also for errors graphql-ws hands over raw', () => {
    const raw = (original: Error | undefined, path?: string[]) => new GraphQLError(original?.message ?? 'Cannot query field "x"', { ...(original ? { originalError: original } : {}), ...(path ? { path } : {}) });
    // A subscription's after that is no position: the client is told BAD_USER_INPUT (was recorded INTERNAL_SERVER_ERROR).
    expect(errorCode(raw(new InvalidPositionError('garbage'), ['eventAppended']))).toBe('BAD_USER_INPUT');
    expect(errorCode(raw(new ForbiddenError('no'), ['eventAppended']))).toBe('FORBIDDEN');
    expect(errorCode(raw(undefined))).toBe('BAD_USER_INPUT');
    expect(errorCode(raw(new Error('a fault of ours'), ['eventAppended']))).toBe('INTERNAL_SERVER_ERROR');
    expect(errorCode({ message: 'm', extensions: { code: 'NOT_FOUND' } })).toBe('NOT_FOUND');
  });

  it('names the entity a mutation returned first, then the ids of its arguments, whatever the selection; never for queries', async () => {
    const schema = buildSchema(`type Asset { id: ID! name: String } type Report { count: Int }
      type Query { asset(id: ID!): Asset }
      type Mutation { register(managerId: ID!): Asset! registerLater(managerId: ID!): Asset report: Report fail(managerId: ID!): Asset }`);
    const fields = schema.getMutationType()!.getFields();
    fields.register!.resolve = () => ({ id: 'asset-new', name: 'HSM' });
    fields.registerLater!.resolve = async () => ({ id: 'asset-later', name: 'HSM 2' });
    fields.report!.resolve = () => ({ count: 1, id: 'not-an-entity' });
    fields.fail!.resolve = async () => {
      throw new Error('refused');
    };
    schema.getQueryType()!.getFields().asset!.resolve = () => ({ id: 'asset-read' });
    logReturnedEntities(schema);
    const run = async (query: string) => {
      const document = parse(query);
      const context = { correlationId: 'c-1', auth: { error: new Error('none') } } as any;
      await execute({ schema, document, contextValue: context });
      return accessRecord(context, describeOperation(document, getOperationAST(document), {}), []).targetIds;
    };
    expect(await run(`mutation { register(managerId: "mgr-ops") { name } }`)).toEqual(['asset-new', 'mgr-ops']);
    expect(await run(`mutation { registerLater(managerId: "mgr-ops") { id } register(managerId: "mgr-ops") { id } }`)).toEqual(['asset-later', 'asset-new', 'mgr-ops']);
    expect(await run(`mutation { report { count } }`)).toEqual([]);
    expect(await run(`mutation { fail(managerId: "mgr-ops") { id } }`)).toEqual(['mgr-ops']);
    expect(await run(`query { asset(id: "asset-1") { id } }`)).toEqual(['asset-1']);
  });
});
