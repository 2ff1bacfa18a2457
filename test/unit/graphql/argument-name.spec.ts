/**
 * argumentPathNamed names the path of what a validation error is about from an index of the
 * document made once (argument-name.ts). Where the walk it replaced (kept here as the reference:
 * two walks of the document per error) named an argument or input field, the path names the
 * same one last; and it names list items, which that walk could not.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildSchema, getVariableValues, GraphQLError, Kind, parse, Source, validate, visit, type DocumentNode } from 'graphql';
import { argumentPathNamed } from '../../../src/graphql/argument-name.js';
import { formatGraphQLError, QUOTED_NAME_MAX } from '../../../src/graphql/error-format.js';

const schema = buildSchema(readFileSync(new URL('../../../schema.gql', import.meta.url), 'utf8'));

function referenceNamed(error: GraphQLError): string | null {
  if (!error.source || !error.positions?.length) return null;
  let document: DocumentNode;
  try {
    document = parse(error.source, { noLocation: false });
  } catch {
    return null;
  }
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

/** Validation errors of a document, and the variable-coercion errors of its first operation with `variables`. */
function errorsOf(text: string, variables?: Record<string, unknown>): GraphQLError[] {
  const source = new Source(text);
  const document = parse(source);
  const errors = [...validate(schema, document)];
  if (variables) {
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    if (operation && operation.kind === Kind.OPERATION_DEFINITION) {
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
      if (coerced.errors) errors.push(...coerced.errors);
    }
  }
  return errors;
}

const DOCUMENTS: [string, Record<string, unknown>?][] = [
  ['mutation { registerAsset(input: { name: 1, category: SYSTEM, department: "ops", managerId: "m", confidentiality: 3, integrity: 3, availability: 2 }) { id } }'],
  ['mutation { registerAsset(input: { name: "n", category: NOPE, department: "ops", managerId: "m", confidentiality: "3", integrity: 3, availability: 2 }) { id } }'],
  ['query { risks(first: "ten", asOf: 5) { totalCount } }'],
  ['query($at: DateTime, $n: Int) { risks(asOf: $at, first: $n) { totalCount } heatMap(asOf: $at) { total } }', { at: 'yesterday', n: 'x' }],
  ['mutation($i: RegisterAssetInput!) { registerAsset(input: $i) { id } }', { i: { name: 'n', category: 'SYSTEM', department: 'ops', managerId: 'm', confidentiality: 'high', integrity: 3, availability: 2 } }],
  ['query { events(first: 1, types: [1, 2], after: 3) { edges { cursor } } risk(id: 4) { id } }'],
  ['query Q { me { id } } query Q { me { id } } query Q { me { name } }'],
  ['mutation { proposeRiskCriteria(input: { likelihoodLevels: [1], impactLevels: "a", riskLevels: [], matrix: [[2]], acceptanceLevel: 3, impactByAssetValue: ["x"], baselineGapThresholds: [], detailedLikelihoodThresholds: [], requiredMethods: [{ nope: 1 }], reviewIntervalDays: [{ level: 1, days: "d" }] }) { id } }'],
  ['query($a: Int, $b: Int) { risks(first: $a) { totalCount } events(first: $b) { edges { cursor } } }', { a: 'one', b: 2.5 }],
  ['query($x: Int) { risks(first: $x, asOf: "2026-01-01T00:00:00Z") { totalCount } } query B($x: String) { risks(first: $x) { totalCount } }'],
];

/** The last name of a path (`input.controls[1].reason` → `reason`, `input.matrix[1][0]` → `matrix`). */
const lastName = (path: string | null) => (path === null ? null : path.replace(/\[\d+\]/g, '').split('.').pop()!);

describe('argumentPathNamed: one index of the document names what two walks per error named, with its path', () => {
  it('ends with the argument or input field the reference names, for every error of every document', () => {
    let named = 0;
    let errors = 0;
    for (const [text, variables] of DOCUMENTS) {
      for (const error of errorsOf(text, variables)) {
        errors++;
        const expected = referenceNamed(error);
        if (!expected) continue;
        named++;
        expect({ text, message: error.message, named: lastName(argumentPathNamed(error)) }).toEqual({ text, message: error.message, named: expected });
      }
    }
    // The documents do exercise both: errors that name an argument, and errors that name none.
    expect(errors).toBeGreaterThan(15);
    expect(named).toBeGreaterThan(8);
    expect(errors - named).toBeGreaterThan(2);
  });

  it('names a literal by its path, and a refused variable by where it is given', () => {
    const [literal] = errorsOf('query { risks(first: "ten") { totalCount } }');
    expect(argumentPathNamed(literal)).toBe('first');
    const [variable] = errorsOf('query($n: Int) { events(first: 1) { totalCount } risks(first: $n) { totalCount } }', { n: 'ten' });
    expect(variable!.message).toMatch(/Variable "\$n"/);
    expect(argumentPathNamed(variable)).toBe('first');
    const [nested] = errorsOf('mutation($v: ID!) { addComment(input: { entityId: $v, text: "t" }) { id } }', { v: {} });
    expect(argumentPathNamed(nested)).toBe('input.entityId');
    const [item] = errorsOf('query { events(types: ["a", 2]) { totalCount } }');
    expect(argumentPathNamed(item)).toBe('types[1]');
    expect(argumentPathNamed(new Error('not a GraphQL error'))).toBeNull();
  });
});

describe('names the client sent are quoted cut to QUOTED_NAME_MAX characters (a 4 MB name came back two or three times)', () => {
  it('cuts unknown field, argument and type names in the message and in the fields named', () => {
    const long = 'x'.repeat(200_000);
    for (const text of [`query { ${long} }`, `query { risks(${long}: 1) { totalCount } }`, `query($v: ${long}) { me { id } }`, `query { me { ... on ${long} { id } } }`]) {
      const errors = errorsOf(text);
      expect(errors.length).toBeGreaterThan(0);
      const answers = errors.map((error) => formatGraphQLError(error.toJSON(), error));
      for (const answer of answers) {
        expect({ text: text.slice(0, 40), small: JSON.stringify(answer).length < 3_000, code: answer.extensions?.code }).toEqual({ text: text.slice(0, 40), small: true, code: 'BAD_USER_INPUT' });
      }
      expect(answers.some((a) => a.message.includes(`"${'x'.repeat(QUOTED_NAME_MAX)}…"`))).toBe(true);
    }
    // A short name is quoted whole.
    const [short] = errorsOf('query { nope }');
    expect(formatGraphQLError(short!.toJSON(), short).message).toBe('Cannot query field "nope" on type "Query".');
  });
});


describe("extensions.fields of GraphQL's own refusals, keyed as the deciders key theirs (new-user probe of 2026-12-05, 4)", () => {
  const fieldsOfFirst = (text: string, variables?: Record<string, unknown>) => {
    const [error] = errorsOf(text, variables);
    return Object.keys((formatGraphQLError(error!.toJSON(), error).extensions as { fields: Record<string, string> }).fields);
  };
  const control = { title: 'HSM', description: 'keys in an HSM', ownerId: 'o', dueDate: '2027-01-01', reason: 'theft' };

  it('a field missing deep in a variable: its path inside the input, the list index kept', () => {
    const { reason: _omitted, ...noReason } = control;
    expect(fieldsOfFirst('mutation($input: DecideControlsInput!) { decideControls(input: $input) { id } }', { input: { riskId: 'r', controls: [control, noReason] } })).toEqual(['controls[1].reason']);
  });

  it('a wrong value or an unknown field in a variable: its path; another argument: its own name', () => {
    expect(fieldsOfFirst('mutation($i: DecideTreatmentInput!) { decideTreatment(input: $i) { id } }', { i: { riskId: 'r', options: ['REDUCE'], rationale: 'x', targetLikelihood: 1.5, targetImpact: 1 } })).toEqual(['targetLikelihood']);
    expect(fieldsOfFirst('mutation($input: DraftPlanInput!) { draftPlan(input: $input) { id } }', { input: { title: 't', period: 'p', extra: 1 } })).toEqual(['extra']);
    expect(fieldsOfFirst('query($n: Int) { risks(first: $n) { totalCount } }', { n: 'ten' })).toEqual(['first']);
    expect(fieldsOfFirst('query($f: RiskFilter) { risks(filter: $f) { totalCount } }', { f: { status: 'NOPE' } })).toEqual(['filter.status']);
    expect(fieldsOfFirst('subscription($v: [String!]) { eventAppended(types: $v) { position } }', { v: ['a', 1] })).toEqual(['types[1]']);
  });

  it('a literal: its path from the argument, list indexes kept (race probe of 2026-12-06, 2)', () => {
    const literal = (c: typeof control & Record<string, unknown>) =>
      `{ title: "${c.title}", description: "d", ownerId: "o", dueDate: "2027-01-01", reason: ${typeof c.reason === 'string' ? `"${c.reason}"` : c.reason} }`;
    expect(fieldsOfFirst(`mutation { decideControls(input: { riskId: "r", controls: [${literal(control)}, ${literal({ ...control, reason: 5 as unknown as string })}] }) { id } }`)).toEqual(['controls[1].reason']);
    expect(fieldsOfFirst('query { risks(filter: { status: NOPE }) { totalCount } }')).toEqual(['filter.status']);
    expect(fieldsOfFirst('mutation { proposeRiskCriteria(input: { likelihoodLevels: ["a"], impactLevels: ["b"], riskLevels: ["L"], matrix: [["L"], [5]], acceptanceLevel: "L", impactByAssetValue: [1], baselineGapThresholds: [], detailedLikelihoodThresholds: [], requiredMethods: [], reviewIntervalDays: [] }) { id } }')).toEqual(['matrix[1][0]']);
    expect(fieldsOfFirst('mutation { decideControls(input: { riskId: "r", controls: [{ title: "t", description: "d", ownerId: "o", dueDate: "2027-01-01" }] }) { id } }')).toEqual(['controls[0].reason']);
    expect(fieldsOfFirst('mutation { draftPlan(input: { title: "t", period: "p", extra: 1 }) { id } }')).toEqual(['extra']);
  });

  it("a name the client sent is never read as another's: quotes, words and paths inside it (race probe of 2026-12-06, 1)", () => {
    const draft = 'mutation($input: DraftPlanInput!) { draftPlan(input: $input) { id } }';
    for (const name of ['a"b', 'x Field "evil" y', 'k at "input.controls[9].zzz"', 'k at "input.x"; Field "y" is not defined by type "T".']) {
      const keys = fieldsOfFirst(draft, { input: { title: 't', period: 'p', [name]: 1 } });
      expect({ name, keys }).toEqual({ name, keys: ['input'] });
    }
    // Unknown inside a list item of a variable: its path, the client's odd name left out.
    const odd = fieldsOfFirst('mutation($input: DecideControlsInput!) { decideControls(input: $input) { id } }', { input: { riskId: 'r', controls: [control, { ...control, 'z"q': 1 }] } });
    expect(odd).toEqual(['controls[1]']);
  });

  it('a literal: the input field without its type name; an unknown argument: that argument', () => {
    expect(fieldsOfFirst('mutation { draftPlan(input: { title: "t" }) { id } }')).toEqual(['period']);
    expect(fieldsOfFirst('mutation { draftPlan(input: { title: "t", period: "p" }, extra: 1) { id } }')).toEqual(['extra']);
    expect(fieldsOfFirst('mutation { draftPlan { id } }')).toEqual(['input']);
    expect(fieldsOfFirst('query { risks(first: "ten") { totalCount } }')).toEqual(['first']);
  });
});
