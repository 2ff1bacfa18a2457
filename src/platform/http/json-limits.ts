/**
 * What a JSON text may hold before this server parses it, over HTTP (body-parser's `verify`) and
 * graphql-ws (each message) alike. JSON.parse cannot be interrupted: what it is given runs to the
 * end on the event loop, so a text that would take long is refused by one pass over its bytes.
 */

/** How deeply arrays and objects may nest (the deepest input of the schema nests 4 or 5). */
export const JSON_MAX_NESTING = 64;

/**
 * How many separators (`,` and `:` outside strings: about one per value, two per object member) a
 * JSON text may have. The largest input of the schema with every list at 500 items (`analyseRisk`'s)
 * has about 4,500 values, and a list ten times too long (5,000 controls: ~50,000) still reaches
 * the field's own error. A 4.8 MB body of one object of 400,000 members, sent without a token, held
 * the event loop 0.3-0.5 s a request (JSON.parse alone: 0.3 s; of 50,000 members ~26-45 ms), an
 * array of 1.2 million numbers 0.14 s (probe, 2026-12-04).
 */
export const JSON_MAX_SEPARATORS = 100_000;

/**
 * Which limit the JSON text in `bytes` passes, if any: 'nesting' (a 4 MB body of two million nested
 * brackets, sent without a token, held the event loop for 0.4 s while it was parsed) or 'values'.
 * Not a validation: a malformed text is JSON.parse's to refuse. UTF-8 continuation bytes are never
 * ASCII, so a multi-byte character cannot pass for a quote or a bracket.
 */
export function jsonLimitPassed(bytes: Uint8Array): 'nesting' | 'values' | undefined {
  let depth = 0;
  let separators = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === 0x5c) i++; // a backslash escapes the next byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) inString = true;
    else if (byte === 0x2c || byte === 0x3a) {
      if (++separators > JSON_MAX_SEPARATORS) return 'values';
    } else if (byte === 0x5b || byte === 0x7b) {
      if (++depth > JSON_MAX_NESTING) return 'nesting';
    } else if (byte === 0x5d || byte === 0x7d) depth--;
  }
  return undefined;
}
