import { MAX_TOKENS } from './edge-limits.js';
import { GraphQLError, Kind, parse, visit, type DocumentNode, type Source, type ValueNode } from 'graphql';

/** Where in one document each argument's values are given, found in one walk of it. */
interface ArgumentIndex {
  /** A variable's name by where its definition starts (a refused variable's error points there). */
  variableAt: Map<number, string>;
  /**
   * The path from its argument of each literal value and input field name, by where it starts
   * (`input.controls[1].reason`, `filter.status`, `input.matrix[1][0]`), the first in document
   * order, and its place in that order.
   */
  pathAt: Map<number, { path: string; order: number }>;
  /** The path where each variable is first given (`input`, `input.entityId`, `types`). */
  variablePath: Map<string, { path: string; order: number }>;
}

const indexes = new WeakMap<Source, ArgumentIndex | null>();

/**
 * The index of a source's document, made once per source: a document refused with 100
 * validation errors (3,700 operations of one name, sent without a token) was walked twice per
 * error, which held the event loop 2.5 s where graphql-js validated it in about 0.1 s.
 */
function indexOf(source: Source): ArgumentIndex | null {
  if (indexes.has(source)) return indexes.get(source) ?? null;
  let document: DocumentNode | null = null;
  try {
    document = parse(source, { noLocation: false, maxTokens: MAX_TOKENS });
  } catch {
    document = null;
  }
  let index: ArgumentIndex | null = null;
  if (document) {
    const found: ArgumentIndex = { variableAt: new Map(), pathAt: new Map(), variablePath: new Map() };
    let order = 0;
    // Every value under an argument, with its path (list items too, which no name points at).
    const walk = (value: ValueNode, path: string, nameStart?: number) => {
      const at = { path, order: order++ };
      for (const position of [nameStart, value.loc?.start]) if (position !== undefined && !found.pathAt.has(position)) found.pathAt.set(position, at);
      if (value.kind === Kind.VARIABLE) {
        if (!found.variablePath.has(value.name.value)) found.variablePath.set(value.name.value, at);
      } else if (value.kind === Kind.OBJECT) {
        for (const field of value.fields) walk(field.value, `${path}.${field.name.value}`, field.loc?.start);
      } else if (value.kind === Kind.LIST) {
        value.values.forEach((item, k) => walk(item, `${path}[${k}]`));
      }
    };
    visit(document, {
      VariableDefinition(node) {
        if (node.loc && !found.variableAt.has(node.loc.start)) found.variableAt.set(node.loc.start, node.variable.name.value);
      },
      Argument(node) {
        walk(node.value, node.name.value, node.loc?.start);
      },
    });
    index = found;
  }
  indexes.set(source, index);
  return index;
}

/**
 * The path from its argument of what a GraphQL validation error is about, found in the operation
 * it came from: the literal value where the error points (`input.controls[1].reason`,
 * `filter.status`, `input.matrix[1][0]`), or where the refused variable is given (`input`,
 * `input.entityId`, `types`), whichever comes first in the document. Null when there is no such
 * thing (race probe of 2026-12-06, 2: a literal's error was keyed by its last name alone, or
 * `document`).
 */
export function argumentPathNamed(error: unknown): string | null {
  if (!(error instanceof GraphQLError) || !error.source || !error.positions?.length) return null;
  const index = indexOf(error.source);
  if (!index) return null;
  const at = error.positions[0]!;
  const variable = index.variableAt.get(at);
  const byValue = index.pathAt.get(at);
  const byVariable = variable === undefined ? undefined : index.variablePath.get(variable);
  if (byValue && byVariable) return byValue.order < byVariable.order ? byValue.path : byVariable.path;
  return (byValue ?? byVariable)?.path ?? null;
}
