/**
 * How two names written by people are compared: asset names (their reservation, Art.14(2)),
 * departments, and the context's items (Art.12(1)) all fold with this one function, so a name
 * that two features compare means the same thing in both.
 */

/**
 * The form two names are compared in: Unicode NFKC (half-width ｶﾅ = カナ, full-width Ａ = A,
 * a decomposed ヘ + U+3099 = ベ), without the code points that are invisible by default (a
 * zero-width space or joiner, a variation selector: 葛 + U+E0100 = 葛), trimmed, inner
 * whitespace runs as one space, case folded. Keys of names holding such code points changed
 * on 2026-12-01: a name reserved before under the older key keeps that reservation.
 */
export function nameKey(name: string): string {
  if (isPlainAscii(name)) return name.toLowerCase();
  return name.normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}/gu, '').trim().replace(/\s+/gu, ' ').toLowerCase();
}

/**
 * Printable ASCII words separated by single spaces, nothing around them: NFKC leaves such a name
 * as it is and there is no whitespace to trim or fold, so only its case changes (most names;
 * the full normalisation costs a registration about 0.5% of its CPU).
 */
function isPlainAscii(name: string): boolean {
  if (name.length === 0) return false;
  let previousSpace = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x20) {
      if (previousSpace) return false;
      previousSpace = true;
    } else if (c > 0x20 && c < 0x7f) previousSpace = false;
    else return false;
  }
  return !previousSpace;
}
