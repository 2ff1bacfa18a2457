/**
 * Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) in free text: a
 * name may not hold them (hasUnprintable), but a description, a rationale or a note may, and in a
 * line of a Markdown or CSV document one reorders the text after it on its line ("Trojan Source":
 * `Wallet\u202Eexe.pdf` reads "Walletfdp.exe"). The documents show each as its code point
 * instead, visibly (`[U+202E]`); the log keeps the text as written.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

export function visibleBidiControls(text: string): string {
  return text.replace(BIDI_CONTROLS, (c) => `[U+${c.codePointAt(0)!.toString(16).toUpperCase()}]`);
}
