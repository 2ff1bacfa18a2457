import { setImmediate as nextTurn } from 'node:timers/promises';
import type { GraphQLFieldResolver, GraphQLObjectType, GraphQLSchema } from 'graphql';

/**
 * The root fields of one operation (its aliases) run one after another with a turn of the event
 * loop between them, so that a request of many root fields is many short tasks and never one long
 * one: most resolvers answer synchronously from the read models, and graphql-js resolves a query's
 * root fields all at once, so 80 aliases of `heatMap` held every other request 3.3-4.6 s, 95 of
 * `plan(id)` on a plan of 1,999 items 4-6 s, and 95 no-op `submitPlan` 7 s (probe p12). The first
 * root field runs at once; an operation of one root field costs one more promise.
 */
export function rootFieldsInTurns(schema: GraphQLSchema): GraphQLSchema {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) if (type) inTurns(type);
  return schema;
}

/** The last root field started for each operation's context. */
const started = new WeakMap<object, Promise<unknown>>();

function inTurns(type: GraphQLObjectType): void {
  for (const field of Object.values(type.getFields())) {
    const resolve = field.resolve;
    if (!resolve) continue;
    const inTurn: GraphQLFieldResolver<unknown, unknown> = (source, args, context, info) => {
      // A context that is no object (none given) cannot be told apart from another operation's.
      if (typeof context !== 'object' || context === null) return resolve(source, args, context, info);
      const previous = started.get(context);
      const result = previous === undefined ? resolve(source, args, context, info) : previous.then(() => nextTurn()).then(() => resolve(source, args, context, info));
      started.set(context, Promise.resolve(result).then(settled, settled));
      return result;
    };
    field.resolve = inTurn;
  }
}

const settled = (): void => undefined;
