/**
 * Records every GraphQL operation in the access log (Art. 23(2)), allowed or not:
 *  - over HTTP, as an Apollo Server plugin (requestDidStart → didResolveOperation →
 *    willSendResponse), which sees parse and validation failures, UNAUTHENTICATED and FORBIDDEN
 *    answers as well as successes;
 *  - over graphql-ws (subscriptions), through the socket server's hooks: a refused connection,
 *    each operation's outcome, and validation errors.
 *
 * What is stored: the actor (from the verified token, or null), operation name and type, root
 * fields, the target ids, the outcome and error code, the correlation id. Never a header, a
 * token, an error message or an input's content.
 *
 * The target ids, one rule for every operation: first the id of each entity a mutation's root
 * field returned (the asset registerAsset created, the risk identifyRisk identified, the asset
 * identifyThreat changed...), then the ids named in the arguments (id, assetId, riskId, planId,
 * criteriaId, catalogueId, managerId…, read from literals and variables); each once, at most 50.
 * A creating mutation's arguments cannot name what it creates: its entry named only those
 * (registerAsset: its manager, a user) until the returned entity was added (insider probe p16).
 * Read from the resolver's own value, so it does not depend on what the client selected.
 */
import { documentSent, MAX_TOKENS, RefusedRequest } from '../../graphql/edge-limits.js';
import { formatGraphQLError } from '../../graphql/error-format.js';
import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import {
  GraphQLError,
  GraphQLObjectType,
  Kind,
  getNamedType,
  getOperationAST,
  parse,
  valueFromASTUntyped,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type FieldNode,
  type GraphQLFieldResolver,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { RequestContext } from '../../identity/graphql/auth.guard.js';
import { UnauthenticatedError, type DomainError } from '../../shared/domain/errors.js';
import { newRequestId, requestIdOf } from '../../shared/logging/request-id.js';
import { takeCommitted } from '../../shared/application/committed-writes.js';
import type { AccessLog, AccessOutcome, AccessRecord, OperationType } from '../application/access-log.js';

/** Argument names that carry ids without being targets. */
const NOT_TARGETS = new Set(['commandId', 'correlationId', 'causationId']);
const MAX_IDS = 50;
const MAX_ID_LENGTH = 128;
const MAX_DEPTH = 4;
const MAX_NAME_LENGTH = 200;
const JWT_LIKE = /^[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*$/;

export interface OperationDescription {
  operationName: string | null;
  operationType: OperationType | null;
  fields: string[];
  targetIds: string[];
}

/** true for `id`, `ids` and names ending in Id / Ids (assetId, riskIds…), but not commandId & co. */
export function isIdArgument(name: string): boolean {
  if (NOT_TARGETS.has(name)) return false;
  return name === 'id' || name === 'ids' || /[a-z0-9]Ids?$/.test(name);
}

function acceptableId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (v === '' || v.length > MAX_ID_LENGTH || JWT_LIKE.test(v) || /\s/.test(v)) return null;
  return v;
}

function collectIds(name: string, value: unknown, out: Set<string>, depth: number): void {
  if (out.size >= MAX_IDS || depth > MAX_DEPTH || value === null || value === undefined) return;
  if (isIdArgument(name)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      const id = acceptableId(item);
      if (id !== null && out.size < MAX_IDS) out.add(id);
    }
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && item !== null) collectIds('', item, out, depth + 1);
    return;
  }
  if (typeof value === 'object') {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) collectIds(key, v, out, depth + 1);
  }
}

function rootFields(document: DocumentNode, selectionSet: SelectionSetNode, seen = new Set<string>()): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) fields.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) fields.push(...rootFields(document, selection.selectionSet, seen));
    else if (selection.kind === Kind.FRAGMENT_SPREAD && !seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment && fragment.kind === Kind.FRAGMENT_DEFINITION) fields.push(...rootFields(document, fragment.selectionSet, seen));
    }
  }
  return fields;
}

/** What an operation is: its type, root fields and the ids its arguments name. */
export function describeOperation(
  document: DocumentNode | undefined,
  operation: OperationDefinitionNode | null | undefined,
  variables: Record<string, unknown> | null | undefined,
  requestedName?: string | null,
): OperationDescription {
  const name = operation?.name?.value ?? requestedName ?? null;
  if (!document || !operation) {
    return { operationName: clip(name), operationType: null, fields: [], targetIds: [] };
  }
  const fieldNodes = rootFields(document, operation.selectionSet);
  const fields = [...new Set(fieldNodes.map((f) => f.name.value))];
  const ids = new Set<string>();
  for (const field of fieldNodes) {
    for (const arg of field.arguments ?? []) {
      let value: unknown;
      try {
        value = valueFromASTUntyped(arg.value, variables ?? undefined);
      } catch {
        continue;
      }
      collectIds(arg.name.value, value, ids, 0);
    }
  }
  return { operationName: clip(name), operationType: operation.operation as OperationType, fields, targetIds: [...ids] };
}

function clip(text: string | null): string | null {
  return text === null ? null : text.slice(0, MAX_NAME_LENGTH);
}

/** The ids of the entities an operation's mutations returned, by the operation's context. */
const returnedIds = new WeakMap<object, string[]>();

function noteReturned(context: unknown, value: unknown): void {
  if (typeof context !== 'object' || context === null || typeof value !== 'object' || value === null) return;
  const id = acceptableId((value as { id?: unknown }).id);
  if (id === null) return;
  const ids = returnedIds.get(context);
  if (!ids) returnedIds.set(context, [id]);
  else if (!ids.includes(id) && ids.length < MAX_IDS) ids.push(id);
}

/**
 * Wraps each Mutation root field whose type has an `id` so that the entity it resolves to is
 * noted for the operation's entry (see the target ids above). Only those fields: Apollo's
 * willResolveField would wrap every field of every request (see noStorePlugin).
 */
export function logReturnedEntities(schema: GraphQLSchema): GraphQLSchema {
  const mutation = schema.getMutationType();
  for (const field of Object.values(mutation?.getFields() ?? {})) {
    const type = getNamedType(field.type);
    const resolve = field.resolve;
    if (!resolve || !(type instanceof GraphQLObjectType) || !type.getFields().id) continue;
    const noting: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
      const result = resolve(source, args, context, info);
      if (typeof (result as PromiseLike<unknown> | null)?.then !== 'function') {
        noteReturned(context, result);
        return result;
      }
      // Noted before graphql-js goes on with the value, so before the answer (and its entry) is complete.
      return Promise.resolve(result).then((value) => {
        noteReturned(context, value);
        return value;
      });
    };
    field.resolve = noting;
  }
  return schema;
}

/** The entry's target ids: the returned entities first, then the ids of the arguments; each once, at most MAX_IDS. */
function targetsOf(context: object | undefined, named: string[]): string[] {
  const returned = context ? returnedIds.get(context) : undefined;
  if (!returned) return named;
  return [...new Set([...returned, ...named])].slice(0, MAX_IDS);
}

const DENIAL_CODES = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

/** ALLOWED without errors; DENIED when any error is UNAUTHENTICATED or FORBIDDEN; FAILED otherwise. */
export function outcomeOf(codes: string[]): { outcome: AccessOutcome; errorCode: string | null } {
  if (codes.length === 0) return { outcome: 'ALLOWED', errorCode: null };
  const denial = codes.find((c) => DENIAL_CODES.has(c));
  if (denial) return { outcome: 'DENIED', errorCode: denial };
  return { outcome: 'FAILED', errorCode: codes[0]! };
}

/**
 * The contract code of an error as it leaves (formatted) or as graphql-js raised it (raw, over
 * graphql-ws): a raw one is classified by the formatter the client's answer goes through (quiet:
 * the answer logs it), so the log records the code the client was told. A subscription's `after`
 * that is no position was answered BAD_USER_INPUT and recorded INTERNAL_SERVER_ERROR (probe).
 */
export function errorCode(error: GraphQLFormattedError | GraphQLError): string {
  const code = (error instanceof GraphQLError ? formatGraphQLError(error.toJSON(), error, { quiet: true }) : error).extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

function actorOf(context: Partial<RequestContext> | undefined): Pick<AccessRecord, 'actorId' | 'actorName' | 'actorRoles'> {
  const auth = context?.auth;
  // A revoked token is authentic: its subject is whom the refused request was from (UnauthenticatedError.claimedActor).
  const actor = auth && 'actor' in auth ? auth.actor : auth && 'error' in auth && auth.error instanceof UnauthenticatedError ? auth.error.claimedActor : undefined;
  if (actor) return { actorId: actor.id, actorName: actor.name, actorRoles: [...actor.roles] };
  return { actorId: null, actorName: null, actorRoles: null };
}

export function accessRecord(
  context: Partial<RequestContext> | undefined,
  description: OperationDescription,
  codes: string[],
): AccessRecord {
  return {
    at: new Date().toISOString(),
    ...actorOf(context),
    ...description,
    targetIds: targetsOf(context, description.targetIds),
    ...outcomeOf(codes),
    correlationId: context?.correlationId ?? null,
    committed: context?.answerId ? (takeCommitted(context.answerId) ?? null) : null,
  };
}

/**
 * What records a GraphQL request refused before its body was read (an unauthenticated large body:
 * src/identity/http/unauthenticated-bodies.ts): no actor, no operation, its refusal's code.
 */
export function unreadRequestRecorder(log: AccessLog) {
  return (req: { headers?: Record<string, string | string[] | undefined> }, error: DomainError): void => {
    log.record(accessRecord({ correlationId: requestIdOf(req) }, { operationName: null, operationType: null, fields: [], targetIds: [] }, [error.code]));
  };
}

/** An operation whose entry could not be queued (the queue is at its cap) is refused before it runs, STORE_UNAVAILABLE (access-log-backlog.ts). */
export function refusedAtCap(log: AccessLog): RefusedRequest | null {
  try {
    log.backlog.assertAdmits();
    return null;
  } catch (error) {
    return new RefusedRequest(error as DomainError, 503);
  }
}

/** The Apollo Server plugin for operations over HTTP. */
export function accessLogPlugin(log: AccessLog): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart(): Promise<GraphQLRequestListener<RequestContext>> {
      let description: OperationDescription | null = null;
      return {
        async didResolveOperation(ctx) {
          description = describeOperation(ctx.document, ctx.operation, ctx.request.variables, ctx.request.operationName);
          const full = refusedAtCap(log);
          if (full) throw full;
        },
        async willSendResponse(ctx) {
          try {
            const body = ctx.response.body;
            const errors: readonly GraphQLFormattedError[] =
              body.kind === 'single' ? (body.singleResult.errors ?? []) : (body.initialResult.errors ?? []);
            // Refused before validation (no valid token, over budget), the request's document is
            // behind a stand-in (validateStandIn): the operation asked for is described, unresolved.
            const sent = documentSent(ctx.document);
            const operation = ctx.operation ?? (sent && sent !== ctx.document ? getOperationAST(sent, ctx.request.operationName ?? undefined) : undefined);
            const described = description ?? describeOperation(sent, operation, ctx.request.variables, ctx.request.operationName);
            log.record(accessRecord(ctx.contextValue, described, errors.map(errorCode)));
          } catch (error) {
            ctx.logger.error(`access log: could not record an operation: ${(error as Error).message}`);
          }
        },
      };
    },
  };
}

type WsContext = { extra: unknown };
type WsPayload = { query?: string; operationName?: string | null; variables?: Record<string, unknown> | null };

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })?.[Symbol.asyncIterator] === 'function';
}

/**
 * graphql-ws hooks: call `connectionRefused` from onConnect when the token is refused, and spread
 * `onOperation` / `onError` into the graphql-ws options.
 */
export function accessLogWsHooks(log: AccessLog) {
  const logged = new WeakMap<object, Set<string>>();
  const mark = (ctx: WsContext, id: string): boolean => {
    const key = ctx as object;
    let ids = logged.get(key);
    if (!ids) logged.set(key, (ids = new Set()));
    if (ids.has(id)) return false;
    ids.add(id);
    return true;
  };
  return {
    /**
     * A subscribe message starts a new operation: an id is marked for the operation it names, and
     * graphql-ws lets a client reuse an id once that operation completed. Marked for good, the
     * second mutation under id "1" on a socket was never logged (re-probe p15).
     */
    operationStarts(ctx: WsContext, id: string): void {
      logged.get(ctx as object)?.delete(id);
    },
    /** As over HTTP (refusedAtCap): null, or the refusal onSubscribe answers with. */
    refusedAtCap: () => refusedAtCap(log),
    connectionRefused(): void {
      log.record(
        accessRecord(
          { correlationId: newRequestId() },
          { operationName: null, operationType: 'subscription', fields: [], targetIds: [] },
          ['UNAUTHENTICATED'],
        ),
      );
    },
    onOperation(ctx: WsContext, id: string, _payload: WsPayload, args: ExecutionArgs, result: unknown): void {
      if (!mark(ctx, id)) return;
      try {
        const operation = getOperationAST(args.document, args.operationName ?? undefined);
        const description = describeOperation(args.document, operation, args.variableValues as Record<string, unknown>, args.operationName);
        const errors = isAsyncIterable(result) ? [] : ((result as ExecutionResult).errors ?? []);
        log.record(accessRecord(args.contextValue as RequestContext, description, errors.map(errorCode)));
      } catch {
        // never let the audit trail break a subscription
      }
    },
    onError(ctx: WsContext, id: string, payload: WsPayload, errors: readonly GraphQLError[]): void {
      // Errors before the operation ran (validation); errors of a running subscription were logged as ALLOWED already.
      if (!mark(ctx, id)) return;
      try {
        let document: DocumentNode | undefined;
        try {
          document = payload.query ? parse(payload.query, { maxTokens: MAX_TOKENS }) : undefined;
        } catch {
          document = undefined;
        }
        const operation = document ? getOperationAST(document, payload.operationName ?? undefined) : null;
        const description = describeOperation(document, operation, payload.variables, payload.operationName);
        const auth = (ctx.extra as { auth?: RequestContext['auth'] } | undefined)?.auth;
        const codes = errors.map(errorCode);
        log.record(accessRecord({ auth, correlationId: newRequestId() }, description, codes.length ? codes : ['BAD_USER_INPUT']));
      } catch {
        // as above
      }
    },
  };
}
