import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  getOperationAST,
  Kind,
  specifiedRules,
  TokenKind,
  validate,
  type ExecutionArgs,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isListType,
  parse,
  type ASTVisitor,
  type DocumentNode,
  type ValidationContext,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type SelectionSetNode,
  type ValueNode,
  visit,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import { argumentLimitProblem } from './argument-limits.js';
import { BadInputError, QueryTooComplexError, type DomainError } from '../shared/domain/errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination.js';

/**
 * The GraphQL edge's limits, checked before any resolver runs:
 *
 * 1. the parser stops after MAX_TOKENS tokens (a huge document is a syntax error, BAD_USER_INPUT);
 * 2. Apollo's recursive-selection limit refuses fragment bombs (BAD_USER_INPUT);
 * 3. before validation (whose cost grows with the document: 60-90 ms for 2,000 aliases), an
 *    operation whose root fields alone cost more than GRAPHQL_MAX_COST (`rootPriceFloor`) is
 *    QUERY_TOO_COMPLEX ("costs at least"), then `documentShapeProblem` refuses a document of more
 *    than MAX_VALIDATED_TOKENS tokens, selections nested (through fields and fragments) deeper
 *    than MAX_DEPTH, and more than MAX_ALIASES aliases (BAD_USER_INPUT);
 * 4. `edgePlugin` prices the operation with its variables and refuses it over GRAPHQL_MAX_COST
 *    (QUERY_TOO_COMPLEX with `cost` and `limit`), and refuses a subscription sent over HTTP.
 *
 * Pricing (COST): every field 1, plus its selection times the page it asks for (`first`, or
 * DEFAULT_PAGE_SIZE when absent, on every field that takes `first`). On top of that, the work a
 * field does that its selection does not show: every root field (but `__typename` and the
 * introspection fields) at least ROOT_FIELD, for the guard, the resolver and the bookkeeping each
 * one runs (the prices below replace it when higher); a replay of the log (`asOf` or `atPosition` on any
 * field) REPLAY, `verifyIntegrity` and `verifyAccessLog` (read and rehash a whole log) VERIFY_INTEGRITY, `history`
 * (one stream, unbounded) HISTORY plus its selection times HISTORY_ITEMS, `events` one read per
 * event of the page; the selection of a list of linked entities (LINKED_LISTS) times LINKED_ITEMS.
 */
export const COST = {
  field: 1,
  replay: 5_000,
  verifyIntegrity: 10_000,
  history: 100,
  historyItems: DEFAULT_PAGE_SIZE,
  eventRead: 1,
  /**
   * controlsDocument renders the Art.18(2) record over the whole register (~0.7 ms with ten risks, more with more),
   * read from the replay at the log's head (kept current by the replay cache, one for every request at the head);
   * with asOf or atPosition, a replay of its own: REPLAY on top, as on every field.
   */
  document: 2_000,
  /** A root field that reads the whole register or catalogue (heatMap, overdueControls, baselineCatalogue(s)). */
  registerRead: 100,
  /**
   * Every root field of a query, mutation or subscription: its guard, resolver and bookkeeping run
   * once per alias. 1,000 aliases of `plans(first: 1) { totalCount }` (1 each before) held the event
   * loop for 0.2-0.9 s; at 500, the default budget admits fewer than 100 root fields in a request.
   */
  rootField: 500,
  /**
   * The items a list of linked entities is priced at (LINKED_LISTS): they take no `first`, and
   * priced once each, an incident linked to 200 risks nested 3 deep (`incident { risks {
   * incidents { risks { incidents { risks { id } } } } } }`, 8 million risks) was admitted and the
   * heap ran out; 2 deep held the loop 18 s (probe p12).
   */
  linkedItems: DEFAULT_PAGE_SIZE,
} as const;

/** Unpaged lists of linked entities, each item a whole entity read (Type.field): priced at COST.linkedItems items. */
const LINKED_LISTS = new Set(['Analysis.incidents', 'Incident.risks', 'Risk.incidents']);

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

/** Root fields priced by the work they do beyond their selection (1,999 aliases of them, each cheap, held the event loop for 0.2-1.6 s). */
const REGISTER_READS = new Set(['heatMap', 'overdueControls', 'baselineCatalogue', 'baselineCatalogues']);

/** Far above any real operation (the largest in the test suite has a few hundred tokens): the parser stops past it. */
export const MAX_TOKENS = 30_000;
/**
 * Tokens of a document GraphQL validates (the introspection query has under 200; the 99 root
 * fields the default budget admits, with a few fields each, about 2,000). Its rules cost up to
 * 4-8 µs a token: a document of 30,000 tokens that the price floor lets through (7,500 unused
 * variables, 30,000 unknown fields, 4,000 directives on one field) held the event loop 50-230 ms
 * a request and a GET /health poll up to 300 ms (probe, 2026-12-04); at 5,000, validation alone
 * took up to 23 ms here (more on a loaded machine), at 3,000 ~13. Checked after the price floor,
 * so 1,000 aliased root fields are still QUERY_TOO_COMPLEX with their price (the contract).
 */
export const MAX_VALIDATED_TOKENS = 3_000;
/** Fields, inline fragments and spreads nested in one another, fragments followed. */
export const MAX_DEPTH = 25;
/**
 * Aliases in one document. 2,000 let one request run 2,000 root fields (the guard threw once per
 * alias without a token, and 50 such operations on one socket held the loop for 6.5 s); the
 * README's operations use a handful.
 */
export const MAX_ALIASES = 200;
/** Selections counted through every fragment spread (Apollo's rule against fragment bombs). */
export const MAX_RECURSIVE_SELECTIONS = 100_000;

export interface EdgeLimits {
  maxCost: number;
  introspection: boolean;
}

/** The estimator: see COST above. */
export const costEstimator: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  let multiplier = 1;
  let extra = 0;
  if (field.args.some((a) => a.name === 'first')) multiplier = pageOf(args.first);
  else if (LINKED_LISTS.has(`${type.name}.${field.name}`)) multiplier = COST.linkedItems;
  if (replays(args)) extra += COST.replay;
  switch (field.name) {
    case 'verifyIntegrity':
    case 'verifyAccessLog':
      extra += COST.verifyIntegrity;
      break;
    case 'history':
      extra += COST.history;
      multiplier = COST.historyItems;
      break;
    case 'events':
      // Only the root `events` connection reads the log (an object type could have a field so named).
      if (isListType(getNullableType(field.type)) || getNamedType(field.type).name === 'EventConnection') extra += multiplier * COST.eventRead;
      break;
    case 'controlsDocument':
      extra += COST.document;
      break;
    default:
      if (REGISTER_READS.has(field.name)) extra += COST.registerRead;
  }
  // A root field's own work is at least ROOT_FIELD (a replay or a verification is priced above it).
  if (ROOT_TYPES.has(type.name) && !field.name.startsWith('__')) extra = Math.max(extra, COST.rootField);
  return COST.field + extra + multiplier * childComplexity;
};

/**
 * Whether the field's point in time replays the log: `atPosition`, or an `asOf` that is past. A
 * later instant is no replay (overdueControls and risksDueForReview judge today's register then;
 * every other field refuses it), and was priced as one (re-probe p13).
 */
function replays(args: Record<string, unknown>): boolean {
  if (args.atPosition != null) return true;
  if (args.asOf == null) return false;
  const at = args.asOf instanceof Date ? args.asOf.getTime() : Date.parse(String(args.asOf));
  return !(at > Date.now());
}

/** A page size as the resolver will see it; an invalid `first` is priced as the largest page (the resolver refuses it). */
function pageOf(first: unknown): number {
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  if (typeof first !== 'number' || !Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) return MAX_PAGE_SIZE;
  return first;
}

/** A request refused before execution: carries the domain error (formatGraphQLError answers with it) and HTTP 400. */
export class RefusedRequest extends GraphQLError {
  constructor(readonly refusal: DomainError, status = 400) {
    super(refusal.message, { originalError: refusal, extensions: { http: { status } } });
    this.name = 'RefusedRequest';
  }
}

function refusal(error: DomainError): RefusedRequest {
  return new RefusedRequest(error);
}

/** The schema Apollo serves, known once the server starts (graphql-ws's hooks are not given it). */
export interface SchemaHolder {
  current?: GraphQLSchema;
}

/** Arguments whose value costEstimator reads (a variable there makes the price depend on the variables). */
const PRICED_ARGUMENTS = new Set(['first', 'asOf', 'atPosition']);

function containsVariable(value: ValueNode): boolean {
  switch (value.kind) {
    case Kind.VARIABLE:
      return true;
    case Kind.LIST:
      return value.values.some(containsVariable);
    case Kind.OBJECT:
      return value.fields.some((f) => containsVariable(f.value));
    default:
      return false;
  }
}

/**
 * Whether the operations of this document cost the same whatever their variables (and whenever
 * they are sent): no variable in an argument the estimator reads, nor in a directive (@skip,
 * @include decide what is counted), and no asOf.
 */
function priceIgnoresVariables(document: DocumentNode): boolean {
  let depends = false;
  visit(document, {
    Argument(node) {
      if (PRICED_ARGUMENTS.has(node.name.value) && containsVariable(node.value)) depends = true;
      // Nor on the clock: an asOf later than now is no replay, until that instant has passed.
      if (node.name.value === 'asOf') depends = true;
    },
    Directive(node) {
      if (node.arguments?.some((a) => containsVariable(a.value))) depends = true;
    },
  });
  return !depends;
}

/**
 * Prices of documents whose price does not depend on their variables, by operation name. Apollo
 * hands every request with the same text the same parsed document, so a mutation sent again and
 * again (with new variables each time) is priced once.
 */
const knownPrices = new WeakMap<DocumentNode, { ignoresVariables: boolean; costs: Map<string, number> }>();

/** The limits checked on a valid operation, over HTTP and graphql-ws alike: its cost, then its arguments' sizes. */
function afterValidation(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, operationName: string | undefined, limits: EdgeLimits): RefusedRequest | undefined {
  const overBudget = priced(schema, document, variables, operationName, limits);
  if (overBudget) return overBudget;
  const tooLarge = argumentLimitProblem(schema, document, variables, operationName);
  return tooLarge ? refusal(tooLarge) : undefined;
}

/** The cost of an operation, or the error that refuses it. */
function priced(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, operationName: string | undefined, limits: EdgeLimits): RefusedRequest | undefined {
  let known = knownPrices.get(document);
  if (!known) knownPrices.set(document, (known = { ignoresVariables: priceIgnoresVariables(document), costs: new Map() }));
  const cached = known.ignoresVariables ? known.costs.get(operationName ?? '') : undefined;
  if (cached !== undefined) return cached > limits.maxCost ? refusal(new QueryTooComplexError(cached, limits.maxCost)) : undefined;
  let cost: number;
  try {
    cost = getComplexity({ schema, query: document, variables, operationName, estimators: [costEstimator], maxQueryNodes: MAX_RECURSIVE_SELECTIONS });
    // Only a price that was computed (variables that do not coerce are execution's to refuse).
    if (known.ignoresVariables) known.costs.set(operationName ?? '', cost);
  } catch (error) {
    // Variables that do not coerce are refused by execution with their own message; anything else is too much.
    if (error instanceof GraphQLError && !/maximum allowed number of nodes/.test(error.message)) return undefined;
    // Every selection costs at least 1: past the node limit, the cost is at least that many.
    const atLeast = Math.max(MAX_RECURSIVE_SELECTIONS, limits.maxCost + 1);
    return refusal(new QueryTooComplexError(atLeast, limits.maxCost, `The request costs at least ${atLeast}, over its budget of ${limits.maxCost}`));
  }
  return cost > limits.maxCost ? refusal(new QueryTooComplexError(cost, limits.maxCost)) : undefined;
}

/**
 * Operations one graphql-ws connection may have running at once: every committed event is offered
 * to every subscription, so a socket holding 20,000 of them stalled each commit for half a second.
 */
export const WS_MAX_OPERATIONS_PER_CONNECTION = 20;
/**
 * graphql-ws connections one actor may hold open at once (each with its own operations). With 20
 * sockets of 50 subscriptions (1,000 per actor), one 2.4 MB event was serialised 1,000 times: 13 s
 * of event loop and 1.8 GB of heap; 10 of 20 make 200 per actor.
 */
export const WS_MAX_CONNECTIONS_PER_ACTOR = 10;

/**
 * graphql-ws's onSubscribe: the same edge limits for operations sent over the socket (which do
 * not pass through Apollo's plugins): bounded parse, shape, validation, cost, argument sizes;
 * and at most WS_MAX_OPERATIONS_PER_CONNECTION running on the socket.
 */
export function wsEdgeCheck(limits: EdgeLimits, holder: SchemaHolder) {
  return (ctx: { subscriptions?: Record<string, unknown> }, _id: string, payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null }): readonly GraphQLError[] | ExecutionArgs => {
    // graphql-ws has reserved this operation's id already: it counts itself.
    if (Object.keys(ctx.subscriptions ?? {}).length > WS_MAX_OPERATIONS_PER_CONNECTION) {
      const problem = `at most ${WS_MAX_OPERATIONS_PER_CONNECTION} operations run at once on one connection: complete one first`;
      return [refusal(new BadInputError({ subscription: problem }, `Too many subscriptions on this connection: ${problem}`))];
    }
    const schema = holder.current;
    if (!schema) return [new GraphQLError('The server is starting', { extensions: { code: 'UNAVAILABLE' } })];
    let document: DocumentNode;
    try {
      document = parse(payload.query, { maxTokens: MAX_TOKENS });
    } catch (error) {
      return [error instanceof GraphQLError ? error : new GraphQLError('The document could not be parsed')];
    }
    const refused = beforeValidation(document, payload.operationName, limits);
    if (refused) return [refusal(refused)];
    const invalid = validate(schema, document, specifiedRules);
    if (invalid.length) return invalid;
    // An operation the document does not hold is the client's mistake, as over HTTP (BAD_USER_INPUT):
    // priced, it read as QUERY_TOO_COMPLEX "at least 100000" (hostile-input probe, 2026-12-04).
    if (!getOperationAST(document, payload.operationName ?? undefined)) {
      const named = payload.operationName ?? null;
      const problem = named === null ? 'must name one of the operations of a document holding several' : `names no operation of the document ("${named.slice(0, 100)}")`;
      return [refusal(new BadInputError({ operationName: problem }, named === null ? 'Must provide operation name if query contains multiple operations.' : `Unknown operation named "${named.slice(0, 100)}".`))];
    }
    const overLimits = afterValidation(schema, document, payload.variables ?? {}, payload.operationName ?? undefined, limits);
    if (overLimits) return [overLimits];
    return { schema, document, variableValues: payload.variables ?? undefined, operationName: payload.operationName ?? undefined };
  };
}

/** Prices the operation and refuses it over budget; refuses subscriptions over HTTP (graphql-ws serves them). */
export function edgePlugin(limits: EdgeLimits, holder: SchemaHolder = {}): ApolloServerPlugin {
  return {
    async serverWillStart({ schema }) {
      holder.current = schema;
    },
    async requestDidStart() {
      return {
        async validationDidStart(requestContext) {
          const problem = requestContext.document ? beforeValidation(requestContext.document, requestContext.request.operationName, limits) : undefined;
          // GraphQL's own rules would recurse along the document and may overflow the stack.
          if (problem) validateStandIn(requestContext, problem);
        },
        async didResolveOperation({ request, document, operationName, operation, schema }) {
          if (operation?.operation === 'subscription') {
            throw refusal(new BadInputError({ subscription: 'is served over WebSocket (graphql-ws) at /graphql, not over HTTP' }, 'Subscriptions are served over WebSocket (graphql-ws), not over HTTP'));
          }
          const refused = afterValidation(schema, document, request.variables ?? {}, operationName ?? undefined, limits);
          if (refused) throw refused;
        },
      };
    },
  };
}

const refusedDocuments = new WeakMap<DocumentNode, DomainError>();

/**
 * Refuses a request's document before GraphQL validates it (from a validationDidStart hook):
 * GraphQL's rules validate a harmless stand-in instead, for which edgeShapeRule reports `problem`.
 * A hook cannot throw: Apollo answers any exception there as an internal error.
 */
export function validateStandIn(requestContext: { document?: DocumentNode }, problem: DomainError): void {
  const standIn = parse('{ __typename }');
  refusedDocuments.set(standIn, problem);
  const sent = documentSent(requestContext.document);
  if (sent) sentDocuments.set(standIn, sent);
  (requestContext as { document: DocumentNode }).document = standIn;
}

const sentDocuments = new WeakMap<DocumentNode, DocumentNode>();

/** The document the client sent, also where validateStandIn put a stand-in in its place (the access log describes the operation asked for). */
export function documentSent<D extends DocumentNode | undefined>(document: D): D {
  return ((document && sentDocuments.get(document)) ?? document) as D;
}

/**
 * Reports the problem found before validation (validateStandIn): a shape problem as a validation
 * error (BAD_USER_INPUT), any other carrying its error (formatGraphQLError answers with it: a
 * price over budget QUERY_TOO_COMPLEX, a request without a valid token UNAUTHENTICATED).
 */
export function edgeShapeRule(context: ValidationContext): ASTVisitor {
  const problem = refusedDocuments.get(context.getDocument());
  if (problem && !(problem instanceof BadInputError)) context.reportError(new GraphQLError(problem.message, { originalError: problem }));
  else if (problem) context.reportError(new GraphQLError(problem.message, { extensions: { validationErrorCode: 'DOCUMENT_SHAPE_LIMIT_EXCEEDED' } }));
  return {};
}

/**
 * What the root fields of the operation cost at the least, read from the document alone (before
 * validation): ROOT_FIELD and 1 each, fields under @skip or @include left out. Whatever their
 * selections, an operation of 1,000 aliased root fields is over the default budget, and is told
 * so without being validated.
 */
export function rootPriceFloor(document: DocumentNode, operationName?: string | null): number {
  let most = 0;
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION || (operationName && d.name?.value !== operationName)) continue;
    let fields = 0;
    for (const s of d.selectionSet.selections) if (s.kind === Kind.FIELD && !s.name.value.startsWith('__') && !s.directives?.length) fields++;
    most = Math.max(most, fields);
  }
  return most * (COST.rootField + COST.field);
}

/** What refuses the document before validation, if anything: its root fields over budget, then its shape. */
export function beforeValidation(document: DocumentNode, operationName: string | null | undefined, limits: EdgeLimits): DomainError | undefined {
  const floor = rootPriceFloor(document, operationName);
  if (floor > limits.maxCost) return new QueryTooComplexError(floor, limits.maxCost, `The request costs at least ${floor}, over its budget of ${limits.maxCost}`);
  const shape = documentShapeProblem(document);
  return shape ? new BadInputError({ document: shape }, shape) : undefined;
}

/**
 * The tokens of a parsed document, counted as the parser's maxTokens counts them (the start, the
 * end and comments left out); stops past `limit`. Reads the parser's token list, which every
 * document here keeps (Apollo's parse and wsEdgeCheck's keep locations: hostile-sizes.e2e checks).
 */
function tokensOf(document: DocumentNode, limit: number): number {
  let count = 0;
  for (let token = document.loc?.startToken ?? null; token && token.kind !== TokenKind.EOF && count <= limit; token = token.next) {
    if (token.kind !== TokenKind.COMMENT && token.kind !== TokenKind.SOF) count++;
  }
  return count;
}

/**
 * What is wrong with the document's shape, if anything: selections nested deeper than MAX_DEPTH
 * (fields, inline fragments and fragment spreads, fragments followed), or more than MAX_ALIASES
 * aliases. Checked before GraphQL's own validation, whose rules recurse along fragment chains and
 * would overflow the stack on a long one. Bounded recursion: it stops at the limit and memoises
 * each fragment, so a long chain or a fragment bomb costs one short pass.
 */
export function documentShapeProblem(document: DocumentNode): string | undefined {
  if (tokensOf(document, MAX_VALIDATED_TOKENS) > MAX_VALIDATED_TOKENS) return `The document has more than ${MAX_VALIDATED_TOKENS} tokens (names, punctuation and values): send a shorter one`;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const fragmentDepth = new Map<string, number>();
  const inProgress = new Set<string>();
  let aliases = 0;
  const depthOf = (set: SelectionSetNode | undefined, level: number, countAliases: boolean): number => {
    if (!set || level > MAX_DEPTH + 1) return 0;
    let deepest = 0;
    for (const s of set.selections) {
      let d = 1;
      if (s.kind === Kind.FIELD) {
        if (countAliases && s.alias) aliases++;
        d += depthOf(s.selectionSet, level + 1, countAliases);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        d += depthOf(s.selectionSet, level + 1, countAliases);
      } else {
        const name = s.name.value;
        const known = fragmentDepth.get(name);
        if (known !== undefined) d += known;
        else if (!inProgress.has(name) && fragments.has(name)) {
          // A cycle is NoFragmentCyclesRule's to report; depth is measured from the fragment itself.
          inProgress.add(name);
          const inner = depthOf(fragments.get(name)!.selectionSet, level + 1, false);
          inProgress.delete(name);
          // Only a measure taken below the cut-off is the fragment's true depth.
          if (level + 1 + inner <= MAX_DEPTH) fragmentDepth.set(name, inner);
          d += inner;
        }
      }
      if (d > deepest) deepest = d;
      if (level + deepest > MAX_DEPTH + 1) break;
    }
    return deepest;
  };
  let deepest = 0;
  for (const d of document.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION) deepest = Math.max(deepest, depthOf(d.selectionSet, 1, true));
    if (deepest > MAX_DEPTH) return `The document nests selections deeper than ${MAX_DEPTH} levels (fragments included)`;
  }
  if (aliases > MAX_ALIASES) return `The document has ${aliases} aliases, more than ${MAX_ALIASES}`;
  return undefined;
}

const SUGGESTION = / ?Did you mean .*?\?(?=$|\s)/gs;

/** With introspection off, an error must not list the schema's names ("Did you mean …?"). */
export function withoutSuggestions(formatted: GraphQLFormattedError): GraphQLFormattedError {
  const strip = (text: string) => text.replace(SUGGESTION, '');
  const extensions = formatted.extensions ? { ...formatted.extensions } : undefined;
  const fields = extensions?.fields as Record<string, unknown> | undefined;
  if (extensions && fields && typeof fields === 'object') {
    extensions.fields = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? strip(v) : v]));
  }
  return { ...formatted, message: strip(formatted.message), ...(extensions ? { extensions } : {}) };
}
