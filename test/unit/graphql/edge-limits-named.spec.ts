/**
 * The edge's limit of an input field is the one its description states (and its decider
 * enforces): a client sent a token revocation's reason of 20,000 characters and was told "at most
 * 10000 characters", then one of 5,000 and was told "at most 1000" (F8). Every input field whose
 * description states a number of characters or items is checked against its edge validators'
 * bounds (input-limits.ts), read from class-validator's metadata.
 */
import { describe, expect, it } from '@jest/globals';
import { getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { buildSchema, isInputObjectType } from 'graphql';
import { statedCharacters } from '../../support/schema-descriptions.js';
import { sourceFiles } from '../../support/source-files.js';

const typeFiles = sourceFiles('src').filter((f) => /^src\/[^/]+\/graphql\/[^/]+\.types\.ts$/.test(f));

/** Input class name → field → the edge's bounds on it. */
async function edgeBounds(): Promise<Map<string, Map<string, { characters?: number; items?: number }>>> {
  const out = new Map<string, Map<string, { characters?: number; items?: number }>>();
  for (const file of typeFiles) {
    const module = (await import(`../../../${file.replace(/\.ts$/, '.js')}`)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (typeof value !== 'function') continue;
      for (const m of getMetadataStorage().getTargetValidationMetadatas(value, '', true, false)) {
        const bound = Number(m.constraints?.[0]);
        if (m.name !== 'maxCharacters' && m.name !== 'maxItems') continue;
        let fields = out.get(value.name);
        if (!fields) out.set(value.name, (fields = new Map()));
        const f = fields.get(m.propertyName) ?? {};
        if (m.name === 'maxCharacters') f.characters = bound;
        else f.items = bound;
        fields.set(m.propertyName, f);
      }
    }
  }
  return out;
}

/** "at most N <things>" where the things are not characters. */
const statedItems = (d: string) => Number(/at most ([\d,]+) (?!characters)[a-z]+/.exec(d)?.[1]?.replace(/,/g, '') ?? NaN);

describe("an input field's edge limit is the one its description states", () => {
  const schema = buildSchema(readFileSync('schema.gql', 'utf8'));
  const stated = Object.values(schema.getTypeMap())
    .filter(isInputObjectType)
    .flatMap((type) => Object.values(type.getFields()).map((field) => ({ path: `${type.name}.${field.name}`, type: type.name, field: field.name, description: field.description ?? '' })));

  it('characters and items, for every field that states them', async () => {
    const bounds = await edgeBounds();
    const checked: string[] = [];
    const wrong: string[] = [];
    for (const s of stated) {
      const edge = bounds.get(s.type)?.get(s.field);
      const characters = statedCharacters(s.description);
      if (characters !== null) {
        checked.push(s.path);
        if (edge?.characters !== characters) wrong.push(`${s.path}: states ${characters} characters, the edge refuses beyond ${edge?.characters}`);
      }
      const items = statedItems(s.description);
      if (Number.isFinite(items) && edge?.items !== undefined) {
        checked.push(s.path);
        if (edge.items !== items) wrong.push(`${s.path}: states ${items} items, the edge refuses beyond ${edge.items}`);
      }
    }
    // A parse that found nothing would pass vacuously.
    expect(checked.length).toBeGreaterThan(30);
    expect(wrong).toEqual([]);
  });
});
