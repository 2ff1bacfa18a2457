import { getArgumentValues, Kind, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { lookAheadPoint, pointInTime, type PointInTime } from '../shared/application/point-in-time.js';

/** The GraphQL field extension (set to true) that marks a root field whose asOf looks ahead (lookAheadPoint), not back. */
export const LOOK_AHEAD_EXTENSION = 'lookAhead';

/** The field node of the operation's root selection with this response key (through fragments). */
function rootField(set: SelectionSetNode, key: string, fragments: Record<string, FragmentDefinitionNode>): FieldNode | undefined {
  for (const s of set.selections) {
    if (s.kind === Kind.FIELD && (s.alias?.value ?? s.name.value) === key) return s;
    const inner = s.kind === Kind.INLINE_FRAGMENT ? s.selectionSet : s.kind === Kind.FRAGMENT_SPREAD ? fragments[s.name.value]?.selectionSet : undefined;
    const found = inner && rootField(inner, key, fragments);
    if (found) return found;
  }
  return undefined;
}

/**
 * The point in time a nested field is read at: the `asOf` / `atPosition` of the root field it
 * hangs under (`risk(id, asOf) { incidents }`, `risks(asOf) { edges { node { incidents } } }`);
 * null for now (a root without them, a mutation's answer). A field added to a type another
 * module resolves (Risk.incidents) thus answers as of the same moment as its parent, without
 * the parent's resolver passing anything down. Under a root field that looks ahead
 * (LOOK_AHEAD_EXTENSION: risksDueForReview, overdueControls), at the point it read: a later
 * instant is today (upgrade probe F2: it was refused as a time travel to the future).
 */
export function rootPointInTime(info: GraphQLResolveInfo): PointInTime | null {
  let path = info.path;
  while (path.prev) path = path.prev;
  const rootType = info.schema.getRootType(info.operation.operation);
  const node = rootField(info.operation.selectionSet, String(path.key), info.fragments);
  const def = node && rootType?.getFields()[node.name.value];
  if (!node || !def) return null;
  const args = getArgumentValues(def, node, info.variableValues) as { asOf?: Date | null; atPosition?: string | null };
  if (def.extensions?.[LOOK_AHEAD_EXTENSION] === true) return lookAheadPoint(args.asOf, Date.now());
  return pointInTime(args.asOf, args.atPosition);
}
