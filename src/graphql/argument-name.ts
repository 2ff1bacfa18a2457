import { MAX_TOKENS } from './edge-limits.js';
import { GraphQLError, Kind, parse, visit, type DocumentNode, type Source } from 'graphql';

const parsed = new WeakMap<Source, DocumentNode | null>();

function documentOf(source: Source): DocumentNode | null {
  if (!parsed.has(source)) {
    let document: DocumentNode | null = null;
    try {
      document = parse(source, { noLocation: false, maxTokens: MAX_TOKENS });
    } catch {
      document = null;
    }
    parsed.set(source, document);
  }
  return parsed.get(source) ?? null;
}

/**
 * The argument or input field a GraphQL validation error is about, found in the operation it
 * came from: the one whose literal value is where the error points, or the one given the
 * variable whose value was refused (`Variable "$at" got invalid value` → `asOf`). Null when
 * there is no such thing to name.
 */
export function argumentNamed(error: unknown): string | null {
  if (!(error instanceof GraphQLError) || !error.source || !error.positions?.length) return null;
  const document = documentOf(error.source);
  if (!document) return null;
  const at = error.positions[0]!;
  let variable: string | null = null;
  visit(document, {
    VariableDefinition(node) {
      if (node.loc?.start === at) variable = node.variable.name.value;
    },
  });
  let name: string | null = null;
  const check = (node: { name: { value: string }; value: { kind: Kind; loc?: { start: number } | undefined; name?: { value: string } } }) => {
    if (name) return;
    if (node.value.loc?.start === at && node.value.kind !== Kind.VARIABLE) name = node.name.value;
    else if (variable && node.value.kind === Kind.VARIABLE && node.value.name?.value === variable) name = node.name.value;
  };
  visit(document, { Argument: check, ObjectField: check });
  return name;
}
