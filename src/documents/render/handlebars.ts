/**
 * The two Handlebars environments the documents are written with: Markdown (no HTML escaping;
 * user text goes through `md`, which neutralises Markdown and inline HTML) and HTML (Handlebars'
 * own escaping of every `{{value}}`). Templates are compiled once, in strict mode, so that a
 * misspelt field fails loudly instead of printing nothing.
 */
import Handlebars from 'handlebars';

/** Markdown-safe inline text: punctuation that starts markup is escaped, line breaks become spaces (one table cell, one list item). */
export function markdownInline(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value)
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

type Template<V> = (view: V) => string;

/** A Markdown template: nothing HTML-escaped (the template escapes with `md`). */
export function markdownTemplate<V>(source: string): Template<V> {
  let compiled: Handlebars.TemplateDelegate | undefined;
  return (view) => (compiled ??= markdownEnv.compile(source, { noEscape: true, strict: true }))(view);
}

/** An HTML template: every `{{value}}` escaped by Handlebars. */
export function htmlTemplate<V>(source: string): Template<V> {
  let compiled: Handlebars.TemplateDelegate | undefined;
  return (view) => (compiled ??= htmlEnv.compile(source, { strict: true }))(view);
}
