import type { GraphQLFormattedError } from 'graphql';
import { GraphQLError, Kind } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { DomainError, BadInputError, ConcurrencyConflictError, ForbiddenError, IntegrityBrokenError, QueryTooComplexError, RateLimitedError, RuleViolationError } from '../shared/domain/errors.js';
import { InvalidPositionError } from '../event-store/hash-chain.js';
import { argumentPathNamed } from './argument-name.js';
import { MAX_DEPTH, RefusedRequest } from './edge-limits.js';
import { rootLogger } from '../shared/logging/json-logger.js';
import { storeUnavailable } from '../shared/application/store-unavailable.js';
import { describeError } from '../shared/application/transient-errors.js';

const log = rootLogger.child('graphql-errors');

/**
 * Every error leaves in the contract's shape: extensions.code one of UNAUTHENTICATED,
 * FORBIDDEN, BAD_USER_INPUT (+fields), NOT_FOUND, CONCURRENCY_CONFLICT (+versions),
 * RULE_VIOLATION (+rule, article), RATE_LIMITED (+retryAfterSeconds). No stack trace ever; anything unexpected is logged with its
 * stack and answered with a generic INTERNAL_SERVER_ERROR.
 */
export function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown, options: { quiet?: boolean } = {}): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };

  if (original instanceof DomainError) return { ...base, message: original.message, extensions: domainExtensions(original) };
  // Refused before execution by the edge's limits (cost budget, subscription over HTTP).
  if (original instanceof RefusedRequest) return { ...base, message: original.refusal.message, extensions: domainExtensions(original.refusal) };
  // Refused before validation (edgeShapeRule: over budget, no valid token): Apollo answers it as a validation error that carries it.
  if (!formatted.path && original instanceof GraphQLError && original.originalError instanceof DomainError) {
    return { ...base, message: original.originalError.message, extensions: domainExtensions(original.originalError) };
  }
  if (original instanceof InvalidPositionError) {
    return { ...base, message: 'Invalid cursor or position', extensions: { code: 'BAD_USER_INPUT', fields: { after: 'is not a valid cursor' } } };
  }
  // Nest's HttpException family (e.g. from pipes) — the message is safe, the details are not.
  const status = (original as { getStatus?: () => number })?.getStatus?.();
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { ...base, extensions: { code: status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : 'BAD_USER_INPUT', fields: {} } };
  }
  const code = formatted.extensions?.code;
  // A document nested thousands of levels deep overflows the parser's recursion before any depth
  // rule sees it: the client hears what is wrong with its document, not the engine's words.
  // (Only that RangeError: "Invalid string length" is an answer too large to write, not a deep document.)
  if (/Maximum call stack size exceeded/.test(original instanceof RangeError ? original.message : formatted.message)) {
    const problem = `nests selections deeper than ${MAX_DEPTH}`;
    return { ...base, message: `The document ${problem}`, extensions: { code: 'BAD_USER_INPUT', fields: { document: problem } } };
  }
  // graphql-js stops checking that repeated fields can merge past a work limit, with only these words.
  if (formatted.message === 'Validation aborted.' || /error limit reached\. Validation aborted/.test(formatted.message)) {
    const problem = 'repeats its fields (or fragments) too often, or has too many errors, to be validated: send each field once';
    return { ...base, message: `The document ${problem}`, extensions: { code: 'BAD_USER_INPUT', fields: { document: problem } } };
  }
  // Errors GraphQL itself raises on what the client sent: parse, validation, variable coercion.
  if (
    code === 'GRAPHQL_PARSE_FAILED' ||
    code === 'GRAPHQL_VALIDATION_FAILED' ||
    code === 'BAD_USER_INPUT' ||
    code === 'PERSISTED_QUERY_NOT_FOUND' ||
    code === 'PERSISTED_QUERY_NOT_SUPPORTED' ||
    code === 'OPERATION_RESOLUTION_FAILURE' ||
    code === 'BAD_REQUEST' ||
    (original instanceof GraphQLError && !original.originalError && !formatted.path) ||
    variableNotCoerced(original)
  ) {
    const named = argumentPathNamed(original);
    const where = named === null ? null : clipQuoted(named);
    const reason = original instanceof GraphQLError && original.originalError instanceof Error ? original.originalError.message : undefined;
    // Apollo's own words would tell the client how to configure the server.
    const message = /introspection is not allowed/i.test(formatted.message) ? 'Introspection is off on this server (GRAPHQL_INTROSPECTION; off by default when NODE_ENV=production)' : clipQuoted(formatted.message);
    const fields = fieldsOf(message, where, reason);
    // The contract's BAD_USER_INPUT names what to change: a fault of the document as a whole names it.
    return { ...base, message, extensions: { code: 'BAD_USER_INPUT', fields: Object.keys(fields).length ? fields : { document: message } } };
  }
  // graphql-js wraps a thrown value that is not an Error of its realm (node's socket errors under
  // the tests' VM) as NonErrorThrown: the store's error is the value it carries.
  const thrown = original instanceof Error && original.name === 'NonErrorThrown' && 'thrownValue' in original ? original.thrownValue : original;
  const unavailable = storeUnavailable(thrown);
  if (unavailable) {
    if (!options.quiet) log.warn('operation refused: the event store is unavailable', { path: formatted.path, error: describeError(thrown) });
    return { ...base, message: unavailable.message, extensions: domainExtensions(unavailable) };
  }
  if (!options.quiet) {
    log.error('unexpected error while executing an operation', {
      path: formatted.path,
      error: original instanceof Error ? { name: original.name, message: original.message, stack: original.stack } : String(original),
    });
  }
  return { ...base, message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/**
 * A variable's value refused by graphql-js before execution (coerceVariableValues: wrong type,
 * null in a list of non-null, missing). Over HTTP Apollo marks it BAD_USER_INPUT itself; graphql-ws
 * hands it on bare, and since it carries the scalar's error as originalError it was answered
 * INTERNAL_SERVER_ERROR, with an error line and its stack (probe 8-b A). Apollo's own test
 * (requestPipeline's isBadUserInputGraphQLError): one variable definition, graphql-js's words.
 */
function variableNotCoerced(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.path || error.nodes?.length !== 1) return false;
  const node = error.nodes[0]!;
  if (node.kind !== Kind.VARIABLE_DEFINITION) return false;
  const variable = `Variable "$${node.variable.name.value}" `;
  return ['got invalid value ', 'has invalid value', 'of required type ', 'of non-null type '].some((words) => error.message.startsWith(variable + words));
}

/**
 * The HTTP status of a domain error on the product's plain HTTP endpoints (/evidence, /documents);
 * GraphQL answers 200 with the code. Every code has one: the compiler checks the table is whole.
 */
const HTTP_STATUS: Record<DomainError['code'], number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RULE_VIOLATION: 409,
  CONCURRENCY_CONFLICT: 409,
  QUERY_TOO_COMPLEX: 400,
  RATE_LIMITED: 429,
  INTEGRITY_BROKEN: 503,
  STORE_UNAVAILABLE: 503,
};

export function httpStatusOf(error: DomainError): number {
  return HTTP_STATUS[error.code];
}

export function domainExtensions(error: DomainError): Record<string, unknown> {
  const extensions: Record<string, unknown> = { code: error.code };
  if (error instanceof BadInputError) extensions.fields = error.fields;
  if (error instanceof ConcurrencyConflictError) {
    extensions.expectedVersion = error.expectedVersion;
    extensions.actualVersion = error.actualVersion;
  }
  if (error instanceof RuleViolationError || (error instanceof ForbiddenError && error.rule !== undefined)) {
    extensions.rule = error.rule;
    extensions.article = error.article;
  }
  if (error instanceof RateLimitedError) extensions.retryAfterSeconds = error.retryAfterSeconds;
  if (error instanceof IntegrityBrokenError) extensions.position = error.position;
  if (error instanceof QueryTooComplexError) {
    extensions.cost = error.cost;
    extensions.limit = error.limit;
  }
  return extensions;
}

/** The most characters of a name quoted from the client's document into an answer. */
export const QUOTED_NAME_MAX = 100;
// A name holds no white space: the words between two quoted names (our own DateTime explanation
// after `found "…"`) are not a quote, and were cut in the middle of the reason (compliance probe 2026-12-04).
const LONG_QUOTE = new RegExp(`"([^"\\s]{${QUOTED_NAME_MAX + 1},})"`, 'g');
/** The longest message left after the quotes are cut: GraphQL's own words around a few names (a "did you mean" names five). */
const MESSAGE_MAX = 1_400;

/**
 * Names the client sent, quoted in GraphQL's messages ("Cannot query field \"…\""), cut to
 * QUOTED_NAME_MAX characters and marked so: a field name of 4 MB came back two or three times in
 * one answer (8–12 MB, 0.3–0.7 s of the event loop to write; hostile-input probe). No name of the
 * schema is anywhere near that long. What is still longer than MESSAGE_MAX is cut there.
 */
function clipQuoted(text: string): string {
  if (text.length <= QUOTED_NAME_MAX) return text;
  const clipped = text.replace(LONG_QUOTE, (_, quoted: string) => `"${quoted.slice(0, QUOTED_NAME_MAX)}…"`);
  return clipped.length <= MESSAGE_MAX ? clipped : `${clipped.slice(0, MESSAGE_MAX)}…`;
}

/** A GraphQL name, and a path of names and list indexes: what a key may be made of (never a client's quote). */
const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const PATH = /^[_A-Za-z][_0-9A-Za-z]*(?:\.[_A-Za-z][_0-9A-Za-z]*|\[\d+\])*$/;

/**
 * `extensions.fields` of a refusal by GraphQL itself, keyed as the deciders key theirs: the path
 * inside the `input` argument (`controls[1].reason`), another argument's path from its name
 * (`asOf`, `filter.status`, `types[0]`), an unknown argument by its own name (new-user probe of
 * 2026-12-05, 4: `reason` and `input`, `DraftPlanInput.period`, `Mutation.draftPlan`). `where`:
 * the path in the document of the value the error points at, or where the refused variable is
 * given (argumentPathNamed). `reason`: graphql-js's own words after the variable's value, for a
 * variable's error. GraphQL prints the names a client sends as they are: a name is taken only
 * where graphql-js puts one and only if it is a name (race probe of 2026-12-06, 1: `x Field
 * "evil" y` made the key `evil`), and the path in a variable only from just before the reason.
 */
export function fieldsOf(message: string, where: string | null, reason?: string): Record<string, string> {
  const named = (candidate: string | undefined) => (candidate !== undefined && NAME.test(candidate) ? candidate : undefined);
  // `Unknown argument "extra" on field "Mutation.draftPlan".`, `Field "draftPlan" argument "input" of type "…" is required, …`: that argument.
  const argument = named(/^Unknown argument "([^"]+)" on (?:field|directive) "[^"]+"\./.exec(message)?.[1] ?? /^Field "[^"]+" argument "([^"]+)" of type "[^"]+" is required/.exec(message)?.[1]);
  if (argument) return { [argument]: message };
  // An input field absent or unknown, in graphql-js's own words (a literal's is type-qualified: `DraftPlanInput.period`).
  const words = reason ?? message;
  const absent = /^Field "([^"]+)" of required type "[^"]+" was not provided\.$/.exec(words)?.[1];
  const unknown = /^Field "(.+)" is not defined by type "[^"]+"\.(?: Did you mean .*)?$/.exec(words)?.[1];
  const field = named((absent ?? unknown)?.replace(/^[A-Z]\w*\./, ''));
  const variable = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" /.exec(message)?.[1];
  let key: string | null;
  if (variable !== undefined) {
    // graphql-js writes `… got invalid value <value> at "<variable><path>"; <reason>`: the path just before the reason.
    const head = reason !== undefined && message.endsWith(`; ${reason}`) ? message.slice(0, -(reason.length + 2)) : '';
    const at = / at "([^"]*)"$/.exec(head)?.[1];
    const inside = at !== undefined && PATH.test(at) && (at === variable || at.startsWith(`${variable}.`) || at.startsWith(`${variable}[`)) ? at.slice(variable.length) : '';
    const base = `${where ?? variable}${inside}`;
    key = field ? `${base}.${field}` : base;
  } else if (where) {
    // A literal: the value where the error points (an unknown field's own path), the absent field under it.
    key = absent && field ? `${where}.${field}` : where;
  } else {
    key = field ?? named(/^Cannot query field "([^"]+)" on type/.exec(message)?.[1]) ?? named(/^Unknown type "([^"]+)"/.exec(message)?.[1]) ?? null;
  }
  if (key === null) return {};
  // Inside `input`, as the deciders key theirs.
  const path = key.startsWith('input.') ? key.slice('input.'.length) : key;
  return { [path]: message };
}
