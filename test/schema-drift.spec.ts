import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { currentSchemaText } from '../src/generate-schema.js';

describe('schema.gql', () => {
  it('is exactly the schema the code generates (run `npm run schema` after changing the API)', async () => {
    const committed = readFileSync('schema.gql', 'utf8');
    expect(await currentSchemaText()).toBe(committed);
  });
});
