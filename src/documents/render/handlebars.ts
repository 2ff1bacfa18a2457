/**
 * The two Handlebars environments the documents are written with: Markdown (no HTML escaping;
 * user text goes through `md`, which neutralises Markdown and inline HTML) and HTML (Handlebars'
 * own escaping of every `{{value}}`). Templates are compiled once, in strict mode, so that a
 * misspelt field fails loudly instead of printing nothing.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import Handlebars from 'handlebars';
import { visibleBidiControls } from './bidi.js';

/** Markdown-safe inline text: punctuation that starts markup is escaped, line breaks become spaces (one table cell, one list item), bidirectional controls shown as code points (visibleBidiControls). */
export function markdownInline(value: unknown): string {
  if (value === null || value === undefined) return '';
  return visibleBidiControls(String(value))
    .replace(/\r\n?|\n/g, ' ')
    .replace(/[\\`*_[\]<>|#~]/g, (c) => `\\${c}`)
    .trim();
}

function environment(): typeof Handlebars {
  const env = Handlebars.create();
  env.registerHelper('md', (value: unknown) => markdownInline(value));
  env.registerHelper('or', (value: unknown, fallback: unknown) => (value === null || value === undefined || value === '' ? fallback : value));
  return env;
}

const markdownEnv = environment();
const htmlEnv = environment();

export type Template<V> = (view: V) => string;

/**
 * The templates made so far that have not been compiled yet. Handlebars compiles a template at its
 * first render, in one task of the event loop: the first plan document of a process held every
 * other request ~100 ms (the soak probe's plan documents, README "Replays in files"), so the
 * server compiles them all before it listens (compileAllTemplates).
 */
const uncompiled = new Set<() => void>();

/** Compiles every template made so far that is not compiled yet; returns how many it compiled. */
export function compileAllTemplates(): number {
  const pending = [...uncompiled];
  for (const compile of pending) compile();
  return pending.length;
}

/**
 * `source` compiled now: Handlebars' own `compile` returns a function that compiles at its first
 * call. Its precompiled specification (the JavaScript Handlebars would build at that call) made
 * into a template, as Handlebars' runtime does with precompiled templates.
 */
function compiledNow(env: typeof Handlebars, source: string, options: PrecompileOptions): Handlebars.TemplateDelegate {
  const spec = new Function(`return ${env.precompile(source, options)};`)() as TemplateSpecification;
  return env.template(spec);
}

type PrecompileOptions = Parameters<typeof Handlebars.precompile>[1];
type TemplateSpecification = Parameters<typeof Handlebars.template>[0];

/** A template compiled once, at its first render or by compileAllTemplates, whichever comes first. */
function compiledOnce<V>(compile: () => Handlebars.TemplateDelegate): Template<V> {
  let compiled: Handlebars.TemplateDelegate | undefined;
  const ensure = () => {
    uncompiled.delete(ensure);
    return (compiled ??= compile());
  };
  uncompiled.add(ensure);
  return (view) => ensure()(view);
}

/** A Markdown template: nothing HTML-escaped (the template escapes with `md`). */
export function markdownTemplate<V>(source: string): Template<V> {
  return compiledOnce(() => compiledNow(markdownEnv, source, { noEscape: true, strict: true }));
}

/**
 * An HTML template: every `{{value}}` escaped by Handlebars, and bidirectional controls shown as
 * code points (visibleBidiControls), as in the Markdown and CSV documents: a browser ends an
 * override at its cell, but within the cell it still reorders (probe 7). The templates hold none,
 * so every one in the page came from a value.
 */
export function htmlTemplate<V>(source: string): Template<V> {
  const template = compiledOnce<V>(() => compiledNow(htmlEnv, source, { strict: true }));
  return (view) => visibleBidiControls(template(view));
}

/**
 * What a slice of a block's items may weigh (renderedInSlices): a million characters, escaped for
 * HTML (`&<` nine times its length), were one task of ~4x that (hostile probe of 2026-12-07, F1).
 */
const WEIGHT_PER_TURN = 250_000;

/**
 * `template` (made by `make` from `source`) rendered with its top-level `{{#each key}}` block a
 * slice of `perTurn` items per turn of the event loop: the same text as the whole template in one
 * call, which held every other request 0.15-0.33 s for a plan of 1,999 items (probe p10). The
 * block is cut at whole lines (its opening and closing tags stand alone on theirs), so Handlebars'
 * standalone-line rules give each part the text it gives the whole. The text comes in parts (their
 * join is the whole).
 */
export function renderedInSlices<V extends object>(
  source: string,
  key: keyof V & string,
  make: (part: string) => Template<V>,
  perTurn: number,
  /** Turns a slice of the view's items into what the block shows (built a slice per turn too). */
  prepare: (slice: unknown[], view: V) => unknown[] = (slice) => slice,
  /**
   * An item's weight (about the characters it renders to): a slice also ends once its items
   * weigh WEIGHT_PER_TURN (at least one item). A risk may hold megabytes of controls: 200 such
   * entries of the controls record were one 0.3 s task (hostile probe F2).
   */
  weigh: (item: unknown) => number = () => 0,
): (view: V, budget?: { add(amount: number): number }) => Promise<string[]> {
  const open = source.indexOf(`\n{{#each ${key}}}\n`);
  let close = -1;
  const tags = /\{\{#each\b|\{\{\/each\}\}/g;
  tags.lastIndex = open + 1;
  for (let depth = 0, tag: RegExpExecArray | null; (tag = tags.exec(source)); ) {
    depth += tag[0] === '{{/each}}' ? -1 : 1;
    if (depth === 0) {
      close = tag.index + tag[0].length;
      break;
    }
  }
  if (open < 0 || close < 0 || source[close] !== '\n') throw new Error(`the template has no {{#each ${key}}} block on lines of its own`);
  const [head, block, tail] = [source.slice(0, open + 1), source.slice(open + 1, close + 1), source.slice(close + 1)].map(make) as [Template<V>, Template<V>, Template<V>];
  return async (view, budget) => {
    const items = view[key] as unknown[];
    // Each part's characters charged to the document's budget as it is rendered (DOCUMENT_MAX_BYTES).
    const parts: string[] = [];
    const push = (part: string) => {
      budget?.add(part.length);
      parts.push(part);
    };
    push(head(view));
    if (items.length === 0) push(block(view));
    for (let i = 0; i < items.length; ) {
      if (i > 0) await nextTurn();
      let end = i;
      for (let weight = 0; end < items.length && end - i < perTurn && (end === i || weight < WEIGHT_PER_TURN); end++) weight += weigh(items[end]);
      push(block({ ...view, [key]: prepare(items.slice(i, end), view) }));
      i = end;
    }
    push(tail(view));
    // In parts: joining a record of 28 MB was one 0.34 s task; they are encoded one by one (encodeInTurns).
    return parts;
  };
}
