import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { newEntityId } from '../../../src/shared/application/entity-id.js';
import { sourceFiles } from '../../support/source-files.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('entity ids', () => {
  it('are time-ordered UUIDs: each sorts after the one made before it', () => {
    const ids = Array.from({ length: 5_000 }, () => newEntityId());
    for (const id of ids) expect(id).toMatch(V7);
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!).toBe(true);
  });

  // One home: a command that mints a random id puts its entity's stream and read-model rows on
  // random index pages again (entity-id.ts), and nothing else would notice.
  it('are made only by newEntityId in the command handlers that create entities', () => {
    const handlers = sourceFiles('src').filter((f) => /^src\/[^/]+\/application\/[^/]+-commands\.ts$/.test(f));
    expect(handlers.length).toBeGreaterThanOrEqual(6);
    const minting = handlers.filter((f) => readFileSync(f, 'utf8').includes('newEntityId()'));
    expect(minting.length).toBeGreaterThanOrEqual(6);
    const random = handlers.filter((f) => /randomUUID|uuidv4|\bv4\(/.test(readFileSync(f, 'utf8')));
    expect(random).toEqual([]);
  });
});
