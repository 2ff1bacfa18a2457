import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { compileAllTemplates } from '../../src/documents/render/handlebars.js';
import { TestApp } from './support/test-app.js';

/**
 * The document templates are compiled before the server listens (DocumentsService's bootstrap):
 * compiled at the first document, they held every other request ~100 ms
 * (test/unit/documents/templates-compiled-at-start.spec.ts for compileAllTemplates itself).
 */
describe('the server, once listening', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await TestApp.start();
  }, 60_000);
  afterAll(() => app?.close());

  it('has every document template compiled: no request compiles one', () => {
    expect(compileAllTemplates()).toBe(0);
  });
});
