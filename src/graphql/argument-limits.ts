/**
 * The contract's size limits ("Limits and hardening": ids at most 128 characters, other text at
 * most 10,000, lists at most 500 items, BAD_USER_INPUT naming the field), well-formed text (no
 * lone surrogate, as in every input) and ids that are not blank (as IdLimit), on the arguments of
 * queries and subscriptions, variables included, over HTTP and graphql-ws alike. Mutation inputs
 * meet the same limits, and their own, in InputValidationPipe; an `asset(id:)` of 5 MB or an
 * `eventAppended(types:)` of 10,000 names never reaches a resolver.
 */
import {
  BREAK,
  getArgumentValues,
  getNamedType,
  getOperationAST,
  getVariableValues,
  isInputObjectType,
  isListType,
  isNonNullType,
  TypeInfo,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { BadInputError } from '../shared/domain/errors.js';
import { ILL_FORMED_TEXT, isWellFormedText, longerThan } from '../shared/domain/guards.js';
import { BLANK_ID, INPUT_LIMITS, isBlankId } from './input-limits.js';

/** Where in an argument a limit is passed, and which. */
interface Excess {
  path: string;
  problem: string;
}

/** The first place `value` (of `type`, already coerced) passes a limit, or undefined. Input objects nest a few levels at most. */
function excess(type: GraphQLInputType, value: unknown, path: string): Excess | undefined {
  if (value === null || value === undefined) return undefined;
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) {
    if (!Array.isArray(value)) return excess(inner.ofType, value, path);
    if (value.length > INPUT_LIMITS.items) return { path, problem: `must have at most ${INPUT_LIMITS.items} items` };
    for (let i = 0; i < value.length; i++) {
      const found = excess(inner.ofType, value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  const named = getNamedType(inner);
  if (isInputObjectType(named)) {
    for (const field of Object.values(named.getFields())) {
      const found = excess(field.type, (value as Record<string, unknown>)[field.name], `${path}.${field.name}`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  if (!isWellFormedText(value)) return { path, problem: ILL_FORMED_TEXT };
  const isId = named.name === 'ID';
  // A blank id named no entity: `history(id: "")` was looked up and answered NOT_FOUND, and a blank
  // filter (`risks(filter: { ownerId: " " })`, `eventAppended(streamId: "")`) read as none.
  if (isId && isBlankId(value)) return { path, problem: isNonNullType(type) ? BLANK_ID : `${BLANK_ID} (leave it out instead)` };
  const max = isId ? INPUT_LIMITS.id : INPUT_LIMITS.text;
  return longerThan(value, max) ? { path, problem: `must be at most ${max} characters` } : undefined;
}

/**
 * What passes a limit in the arguments of the query or subscription `operationName` selects (its
 * nested fields' arguments too), as the BadInputError to answer, or undefined. Mutations are left
 * to InputValidationPipe; variables that do not coerce are left to execution, which refuses them
 * with its own message.
 */
export function argumentLimitProblem(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown>, operationName: string | undefined): BadInputError | undefined {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation === 'mutation') return undefined;
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, { maxErrors: 1 });
  if (coerced.errors) return undefined;
  const typeInfo = new TypeInfo(schema);
  let found: Excess | undefined;
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      // Other operations of the document are not executed (fragments may serve this one).
      OperationDefinition: (node) => (node === operation ? undefined : false),
      Field(node) {
        const field = typeInfo.getFieldDef();
        if (!field || !node.arguments?.length) return undefined;
        let values: Record<string, unknown>;
        try {
          values = getArgumentValues(field, node, coerced.coerced);
        } catch {
          return undefined; // not coercible: execution answers it
        }
        for (const argument of field.args) {
          found = excess(argument.type, values[argument.name], argument.name);
          if (found) return BREAK;
        }
        return undefined;
      },
    }),
  );
  if (!found) return undefined;
  return new BadInputError({ [found.path]: found.problem }, `${found.path} ${found.problem}`);
}
