import { describe, expect, it } from '@jest/globals';
import { compileAllTemplates, htmlTemplate, markdownTemplate } from '../../../src/documents/render/handlebars.js';

/**
 * Handlebars compiles a template at its first render, in one task of the event loop: the first
 * plan document of a process held every other request ~100 ms (the replays probe's figures of
 * 2026-12-07). The server compiles every document template before it listens
 * (test/e2e/document-templates.e2e.spec.ts).
 */
describe('document templates', () => {
  it('are compiled by compileAllTemplates, once, and render as compiled at their first use', () => {
    const md = markdownTemplate<{ name: string }>('# {{md name}}\n');
    const html = htmlTemplate<{ name: string }>('<p>{{name}}</p>');
    expect(compileAllTemplates()).toBeGreaterThanOrEqual(2);
    expect(compileAllTemplates()).toBe(0);
    expect([md({ name: 'a*b' }), html({ name: '<b>' })]).toEqual(['# a\\*b\n', '<p>&lt;b&gt;</p>']);
    // Strict, as before: a misspelt field fails loudly.
    expect(() => markdownTemplate<object>('{{missing}}')({})).toThrow(/"missing" not defined/);
    expect(compileAllTemplates()).toBe(0); // compiled at its first render
  });

});
