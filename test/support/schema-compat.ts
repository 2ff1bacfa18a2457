import { buildSchema } from 'graphql';
import { CriticalityLevel, diff } from '@graphql-inspector/core';

export interface BreakingChange {
  /** `Type.field`, `Type.field.argument`, `Enum.VALUE`…, as @graphql-inspector names it. */
  path: string;
  message: string;
}

/** What a client written against `released` could no longer do against `current`. */
export async function breakingChanges(released: string, current: string): Promise<BreakingChange[]> {
  const changes = await diff(buildSchema(released), buildSchema(current));
  return changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking).map((c) => ({ path: c.path ?? c.type, message: c.message }));
}

/**
 * The breaking changes the README acknowledges, by path: lines of its "Schema changelog" section
 * written `- BREAKING \`Path\`: reason`. A breaking change needs a reason a tool author can read.
 */
export function acknowledgedBreakingChanges(readme: string): Map<string, string> {
  const section = /## Schema changelog\n([\s\S]*?)(?=\n## |\n# |$)/.exec(readme)?.[1] ?? '';
  const acknowledged = new Map<string, string>();
  for (const m of section.matchAll(/^- BREAKING `([^`]+)`: (.+)$/gm)) acknowledged.set(m[1]!, m[2]!.trim());
  return acknowledged;
}

/** The breaking changes the README does not acknowledge (each with a reason). */
export async function unacknowledged(released: string, current: string, readme: string): Promise<BreakingChange[]> {
  const ok = acknowledgedBreakingChanges(readme);
  return (await breakingChanges(released, current)).filter((c) => !ok.get(c.path));
}
