import { MAX_TOKENS } from './edge-limits.js';
import { GraphQLError, Kind, parse, visit, type DocumentNode, type Source } from 'graphql';

/** Where in one document each argument or input field is given, found in one walk of it. */
interface ArgumentIndex {
  /** A variable's name by where its definition starts (a refused variable's error points there). */
  variableAt: Map<number, string>;
  /** The first argument or input field (in document order) whose literal value starts there, and its place in that order. */
  valueAt: Map<number, { name: string; order: number }>;
  /** The first argument or input field given each variable, and its place in that order. */
  givenVariable: Map<string, { name: string; order: number }>;
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
    const found: ArgumentIndex = { variableAt: new Map(), valueAt: new Map(), givenVariable: new Map() };
    let order = 0;
    const note = (node: { name: { value: string }; value: { kind: Kind; loc?: { start: number } | undefined; name?: { value: string } } }) => {
      const at = { name: node.name.value, order: order++ };
      if (node.value.kind === Kind.VARIABLE) {
        const variable = node.value.name!.value;
        if (!found.givenVariable.has(variable)) found.givenVariable.set(variable, at);
      } else if (node.value.loc && !found.valueAt.has(node.value.loc.start)) found.valueAt.set(node.value.loc.start, at);
    };
    visit(document, {
      VariableDefinition(node) {
        if (node.loc && !found.variableAt.has(node.loc.start)) found.variableAt.set(node.loc.start, node.variable.name.value);
      },
      Argument: note,
      ObjectField: note,
    });
    index = found;
  }
  indexes.set(source, index);
  return index;
}

/**
 * The argument or input field a GraphQL validation error is about, found in the operation it
 * came from: the one whose literal value is where the error points, or the one given the
 * variable whose value was refused (`Variable "$at" got invalid value` → `asOf`), whichever comes
 * first in the document. Null when there is no such thing to name.
 */
export function argumentNamed(error: unknown): string | null {
  if (!(error instanceof GraphQLError) || !error.source || !error.positions?.length) return null;
  const index = indexOf(error.source);
  if (!index) return null;
  const at = error.positions[0]!;
  const variable = index.variableAt.get(at);
  const byValue = index.valueAt.get(at);
  const byVariable = variable === undefined ? undefined : index.givenVariable.get(variable);
  if (byValue && byVariable) return byValue.order < byVariable.order ? byValue.name : byVariable.name;
  return (byValue ?? byVariable)?.name ?? null;
}
