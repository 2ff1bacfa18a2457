/**
 * The order of the schema clients see. Types, fields and arguments are sorted by name, so that
 * schema.gql reads the same whatever order the modules register them in; an enum's values keep
 * the order the code declares them in, which for the lifecycles is the contract's "values, in
 * lifecycle order" (RiskStatus IDENTIFIED → … → CLOSED, PlanStatus DRAFT → … → CLOSED): a tool
 * reading them through introspection gets the lifecycle, not the alphabet (Nest's `sortSchema`
 * sorted them too: ACCEPTED, ANALYSED, AWAITING_CONSENT…).
 */
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { GraphQLEnumType, isEnumType, lexicographicSortSchema, type GraphQLSchema } from 'graphql';

export function sortedKeepingEnumOrder(schema: GraphQLSchema): GraphQLSchema {
  const declared = new Map<string, string[]>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (isEnumType(type) && !type.name.startsWith('__')) declared.set(type.name, type.getValues().map((v) => v.name));
  }
  return mapSchema(lexicographicSortSchema(schema), {
    [MapperKind.ENUM_TYPE]: (type) => {
      const order = declared.get(type.name);
      if (!order) return type;
      const config = type.toConfig();
      return new GraphQLEnumType({ ...config, values: Object.fromEntries(order.map((name) => [name, config.values[name]!])) });
    },
  });
}
