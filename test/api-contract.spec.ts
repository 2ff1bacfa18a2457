/**
 * The GraphQL contract internal tools are written against (api-contract.md, "Commands",
 * "Queries", "Fields tools rely on" and its enum table): its names, argument and return types and
 * enum values are fixed. Checked on schema.gql, which schema-drift.spec.ts holds equal to what the
 * server serves. Types may have more fields and enums more values (the second round's additions);
 * an enum's values come in lifecycle order, as the contract lists them.
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildSchema, GraphQLEnumType, GraphQLObjectType, GraphQLSchema, isInputObjectType, isNonNullType, printSchema, type GraphQLField } from 'graphql';
import { sortedKeepingEnumOrder } from '../src/graphql/schema-order.js';

const schema = buildSchema(readFileSync('schema.gql', 'utf8'));

const MUTATIONS: Record<string, string> = {
  registerAsset: 'Asset!', identifyThreat: 'Asset!', identifyVulnerability: 'Asset!', reassignAssetManager: 'Asset!', retireAsset: 'Asset!',
  proposeRiskCriteria: 'RiskCriteria!', approveRiskCriteria: 'RiskCriteria!', importBaselineCatalogue: 'BaselineCatalogue!',
  identifyRisk: 'Risk!', analyseRisk: 'Risk!', evaluateRisk: 'Risk!', decideTreatment: 'Risk!', decideControls: 'Risk!', recordReview: 'Risk!',
  draftPlan: 'Plan!', addRiskToPlan: 'Plan!', submitPlan: 'Plan!', recordBoardResolution: 'Plan!', acceptResidualRisk: 'Plan!', declineResidualRisk: 'Plan!',
  // Second round.
  withdrawPlan: 'Plan!', closePlan: 'Plan!', removeRiskFromPlan: 'Plan!', recordControlProgress: 'Risk!', attachEvidence: 'Evidence!', addComment: 'Comment!',
  recordContext: 'Context!', recordIncident: 'Incident!', linkIncidentToRisk: 'Risk!',
};

const QUERIES: Record<string, [args: string[], returns: string]> = {
  me: [[], 'Actor!'],
  asset: [['id: ID!', 'asOf: DateTime'], 'Asset'],
  assets: [['first: Int', 'after: String', 'department: String'], 'AssetConnection!'],
  riskCriteria: [[], 'RiskCriteria'],
  baselineCatalogues: [[], '[BaselineCatalogue!]!'],
  risk: [['id: ID!', 'asOf: DateTime'], 'Risk'],
  risks: [['filter: RiskFilter', 'first: Int', 'after: String', 'asOf: DateTime'], 'RiskConnection!'],
  heatMap: [['asOf: DateTime'], 'HeatMap!'],
  plan: [['id: ID!', 'asOf: DateTime'], 'Plan'],
  plans: [['first: Int', 'after: String'], 'PlanConnection!'],
  controlsDocument: [['riskId: ID'], 'ControlsDocument!'],
  history: [['id: ID!'], '[RecordedEvent!]!'],
  events: [['after: String', 'first: Int', 'types: [String!]'], 'EventConnection!'],
  verifyIntegrity: [[], 'IntegrityReport!'],
  accessLog: [['first: Int', 'after: String', 'actorId: ID'], 'AccessLogConnection!'],
  // Second round.
  verifyAccessLog: [[], 'IntegrityReport!'],
  overdueControls: [['asOf: DateTime'], '[ControlRef!]!'],
  comments: [['entityId: ID!'], '[Comment!]!'],
  context: [['asOf: DateTime'], 'Context'],
  incidents: [['first: Int', 'after: String'], 'IncidentConnection!'],
};

const FIELDS: Record<string, string> = {
  Asset: 'id: ID!, version: Int!, name: String!, department: String!, managerId: ID!, confidentiality: Int!, integrity: Int!, availability: Int!, value: Int!, status: AssetStatus!, threats: [Threat!]!',
  Threat: 'id: ID!, name: String!, affects: [SecurityProperty!]!, vulnerabilities: [Vulnerability!]!',
  Vulnerability: 'id: ID!, name: String!',
  RiskCriteria: 'id: ID!, version: Int!, number: Int!, status: CriteriaStatus!, acceptanceLevel: String!, riskLevels: [String!]!',
  Risk: 'id: ID!, version: Int!, title: String!, ownerId: ID!, status: RiskStatus!, cycle: Int!, likelihood: Int, impact: Int, level: String, criteriaNumber: Int, priority: Int, needsReevaluation: Boolean!, analyses: [Analysis!]!, treatment: Treatment, controls: [Control!]!, incidents: [Incident!]!',
  Plan: 'id: ID!, version: Int!, revision: Int!, status: PlanStatus!, title: String!, items: [PlanItem!]!, resolution: BoardResolution',
  PlanItem: 'riskId: ID!, consent: ConsentStatus!, residualLevel: String',
  IntegrityReport: 'ok: Boolean!, eventsChecked: Int!, firstBrokenPosition: String, reason: String',
  RecordedEvent: 'position: String!, streamId: ID!, revision: Int!, type: String!, data: JSON!, metadata: EventMetadataType!, hash: String!',
  Control: 'id: ID!, title: String!, ownerId: ID!, dueDate: String!, status: ControlStatus!, progressPercent: Int!, overdue: Boolean!, evidence: [Evidence!]!',
  ControlRef: 'riskId: ID!, controlId: ID!, title: String!, ownerId: ID!, dueDate: String!, status: ControlStatus!',
  Comment: 'id: ID!, author: CommentAuthor!, text: String!, createdAt: String!',
  EventMetadataType: 'actor: EventActor!, roles: [String!]!, occurredAt: String!, correlationId: String!, causationId: String!, commandId: String',
};

/** The contract's enums, values in lifecycle order; additions of the second round after them (`+`). */
const ENUMS: Record<string, string> = {
  RiskStatus: 'IDENTIFIED ANALYSED RETAINED TO_TREAT TREATMENT_DECIDED CONTROLS_DECIDED IN_PLAN AWAITING_CONSENT ACCEPTED CLOSED',
  PlanStatus: 'DRAFT SUBMITTED APPROVED IN_FORCE +CLOSED',
  ConsentStatus: 'PENDING ACCEPTED DECLINED STALE +REOPENED',
  AssetStatus: 'ACTIVE RETIRED',
  CriteriaStatus: 'PROPOSED IN_FORCE SUPERSEDED',
  AnalysisMethod: 'BASELINE INFORMAL DETAILED',
  TreatmentOption: 'REDUCE AVOID SHARE',
  SecurityProperty: 'CONFIDENTIALITY INTEGRITY AVAILABILITY',
  AssetCategory: 'INFORMATION SYSTEM SOFTWARE HARDWARE SERVICE PEOPLE PAPER',
  BoardDecision: 'APPROVED REJECTED',
  ControlStatus: 'PLANNED IN_PROGRESS IMPLEMENTED VERIFIED CANCELLED',
  BaselineRequirementStatus: 'MET PARTIAL NOT_MET NOT_APPLICABLE',
};

const fieldsOf = (name: string) => (schema.getType(name) as GraphQLObjectType).getFields();
const shape = (f: GraphQLField<unknown, unknown>) => `${f.name}: ${f.type.toString()}`;

describe('the GraphQL contract (api-contract.md)', () => {
  it.each(Object.entries(MUTATIONS))('mutation %s takes one input, with commandId, and returns %s', (name, returns) => {
    const field = schema.getMutationType()!.getFields()[name]!;
    expect(field?.type.toString()).toBe(returns);
    expect(field.args.map((a) => a.name)).toEqual(['input']);
    const input = field.args[0]!.type;
    const type = isNonNullType(input) ? input.ofType : input;
    expect(isInputObjectType(type) && type.getFields().commandId?.type.toString()).toBe('ID');
  });

  it.each(Object.entries(QUERIES))('query %s takes its arguments and returns its type', (name, [args, returns]) => {
    const field = schema.getQueryType()!.getFields()[name]!;
    expect(field?.type.toString()).toBe(returns);
    const declared = field.args.map((a) => `${a.name}: ${a.type.toString()}`);
    expect(declared).toEqual(expect.arrayContaining(args));
  });

  it('subscription eventAppended(types, streamId) delivers RecordedEvent!', () => {
    const field = schema.getSubscriptionType()!.getFields().eventAppended!;
    expect(field.type.toString()).toBe('RecordedEvent!');
    expect(field.args.map((a) => `${a.name}: ${a.type.toString()}`)).toEqual(expect.arrayContaining(['types: [String!]', 'streamId: ID']));
  });

  it.each(Object.entries(FIELDS))('%s has the fields tools rely on', (type, fields) => {
    const have = Object.values(fieldsOf(type)).map(shape);
    expect(have).toEqual(expect.arrayContaining(fields.split(', ')));
  });

  it.each(Object.entries(ENUMS))('enum %s lists its values in lifecycle order', (name, values) => {
    const type = schema.getType(name) as GraphQLEnumType;
    expect(type.getValues().map((v) => v.name)).toEqual(values.split(' ').map((v) => v.replace('+', '')));
  });
});

describe('sortedKeepingEnumOrder', () => {
  it('sorts types, fields and arguments by name and keeps each enum in the order declared', () => {
    const declared = buildSchema(`
      enum Stage { SECOND FIRST THIRD }
      type Query { zeta(b: Int, a: Int): Stage alpha: Int }
    `);
    const printed = printSchema(sortedKeepingEnumOrder(declared));
    expect(printed.replace(/\s+/g, ' ').trim()).toBe('type Query { alpha: Int zeta(a: Int, b: Int): Stage } enum Stage { SECOND FIRST THIRD }');
  });

  it('keeps what the schema resolves: the enum\'s internal values and the fields\' resolvers', () => {
    const stage = new GraphQLEnumType({ name: 'Stage', values: { LATER: { value: 2 }, SOONER: { value: 1 } } });
    const query = new GraphQLObjectType({ name: 'Query', fields: { stage: { type: stage, resolve: () => 2 } } });
    const sorted = sortedKeepingEnumOrder(new GraphQLSchema({ query }));
    const sortedStage = sorted.getType('Stage') as GraphQLEnumType;
    expect(sortedStage.getValues().map((v) => [v.name, v.value])).toEqual([['LATER', 2], ['SOONER', 1]]);
    expect(sorted.getQueryType()!.getFields().stage!.resolve?.({}, {}, {}, {} as never)).toBe(2);
  });
});
