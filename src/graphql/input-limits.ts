/**
 * Limits every GraphQL input meets before any command or query sees it (contract, "Limits and
 * hardening"): names and titles at most 200 characters, ids at most 128, other text at most
 * 10,000, lists at most 500 items. Beyond: BAD_USER_INPUT naming the field (InputValidationPipe).
 * The deciders keep their own, often tighter, rules (a risk's text, a catalogue's version, …).
 */
import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { ValidateBy, ValidateNested, type ValidationArguments } from 'class-validator';
import { hasUnprintable, hasVisibleCharacter, ILL_FORMED_TEXT, isWellFormedText, longerThan } from '../shared/domain/guards.js';
import { INPUT_LIMITS } from '../shared/domain/input-limits.js';

export { INPUT_LIMITS };

/** Every string in `value`, however deeply nested in arrays. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  return out;
}

/**
 * At most `max` characters each (counted as the deciders count: longerThan). A field whose decider
 * allows fewer passes its own `tighter` limit, which the edge then names: a client is never told a
 * bound larger than the real one (a token revocation's reason of 20,000 characters was told "at
 * most 10000", one of 5,000 "at most 1000"). The tighter bound counts the text trimmed, as the
 * deciders do, so the edge never refuses what its decider would take.
 */
function lengthBound(max: number, tighter?: number) {
  const named = tighter !== undefined && tighter < max ? tighter : undefined;
  const fits = (s: string) => !longerThan(s, max) && (named === undefined || !longerThan(s.trim(), named));
  return ValidateBy({
    name: 'maxCharacters',
    constraints: [named ?? max],
    validator: {
      validate: (value: unknown) => value === null || value === undefined || strings(value).every(fits),
      defaultMessage: (args?: ValidationArguments) =>
        // Only the untrimmed bound failed: a short text padded with thousands of spaces.
        named !== undefined && strings(args?.value).every((s) => !longerThan(s.trim(), named))
          ? `must be at most ${max} characters, spaces around it included`
          : `must be at most ${named ?? max} characters`,
    },
  });
}

function itemsBound(max: number) {
  return ValidateBy({
    name: 'maxItems',
    constraints: [max],
    validator: {
      validate: (value: unknown) => value === null || value === undefined || (Array.isArray(value) && value.length <= max && value.every((v) => !Array.isArray(v) || v.length <= max)),
      defaultMessage: () => `must have at most ${max} items`,
    },
  });
}


function printable() {
  return ValidateBy({
    name: 'printableName',
    validator: {
      // Around the name is trimmed away (the deciders keep it trimmed): only what stays counts.
      validate: (value: unknown) => value === null || value === undefined || strings(value).every((s) => !hasUnprintable(s.trim())),
      defaultMessage: () => 'must not contain control, line-separator, bidirectional-override or invisible characters',
    },
  });
}

/** Every text, whatever its kind: well-formed UTF-16 (no lone surrogate; guards.ts, isWellFormedText). */
function wellFormed() {
  return ValidateBy({
    name: 'wellFormedText',
    validator: {
      validate: (value: unknown) => value === null || value === undefined || strings(value).every(isWellFormedText),
      defaultMessage: () => ILL_FORMED_TEXT,
    },
  });
}

/**
 * An id is never blank: "" or spaces named no entity and were answered NOT_FOUND ("Risk  not
 * found"), as if a real id had been looked up (hostile probe of 2026-12-06, L6). Query and
 * subscription arguments of type ID meet the same rule in argument-limits.ts. Blank as a text is:
 * with no visible character (a zero-width space or word joiner alone was still looked up, race
 * probe of 2026-12-06, F2).
 */
export const BLANK_ID = 'must not be blank: an id names an entity';
export const isBlankId = (id: string): boolean => !hasVisibleCharacter(id);

function nonBlankId() {
  return ValidateBy({
    name: 'nonBlankId',
    validator: {
      validate: (value: unknown) => value === null || value === undefined || !strings(value).some(isBlankId),
      defaultMessage: () => BLANK_ID,
    },
  });
}

/**
 * A name or a title (or a list of them): at most 200 characters each, all of them printable; pass
 * the decider's limit where it is tighter (a plan's period: 50), as for IdLimit and TextLimit.
 */
export const NameLimit = (tighter?: number) => applyDecorators(lengthBound(INPUT_LIMITS.name, tighter), printable(), wellFormed());
/** An id (or a list of ids): at most 128 characters each, or the decider's tighter limit. */
export const IdLimit = (tighter?: number) => applyDecorators(lengthBound(INPUT_LIMITS.id, tighter), wellFormed(), nonBlankId());
/** Any other text (or a list of texts): at most 10,000 characters each, or the decider's tighter limit. */
export const TextLimit = (tighter?: number) => applyDecorators(lengthBound(INPUT_LIMITS.text, tighter), wellFormed());
/** A list: at most `max` items (500 by default), also in each inner list. */
export const ListLimit = (max: number = INPUT_LIMITS.items) => itemsBound(max);
/**
 * An `expectedVersion`: an entity's version as the client last read it, 0 or more. A negative one
 * was compared with the entity's version like any other and answered CONCURRENCY_CONFLICT, which
 * told the client to read again rather than that it sent something no entity can have.
 */
export const VersionLimit = () =>
  ValidateBy({
    name: 'entityVersion',
    validator: {
      validate: (value: unknown) => value === null || value === undefined || (Number.isSafeInteger(value) && (value as number) >= 0),
      defaultMessage: () => 'must be 0 or more: the version of the entity as last read',
    },
  });
/**
 * The limits whose validators look at the property's value alone (not at the object, nor at the
 * validation arguments): InputValidationPipe may run them on the plain input itself.
 */
export const VALUE_ONLY_LIMITS: ReadonlySet<string> = new Set(['maxCharacters', 'maxItems', 'printableName', 'wellFormedText', 'entityVersion', 'nonBlankId']);

/** The class each NestedInput property holds, per declaring class (InputValidationPipe's fast path). */
const nestedTypes = new WeakMap<Function, Map<string, () => new () => object>>();

/** The class NestedInput declared for `property` of `type` (or of a class it extends). */
export function nestedInputType(type: Function, property: string): (new () => object) | undefined {
  for (let c: Function | null = type; c && c !== Function.prototype; c = Object.getPrototypeOf(c) as Function | null) {
    const declared = nestedTypes.get(c)?.get(property);
    if (declared) return declared();
  }
  return undefined;
}

/** Input objects inside this field (one, or a list) are checked with their own limits. */
export const NestedInput = (type: () => new () => object) =>
  applyDecorators(ValidateNested(), Type(type), (target: object, property: string | symbol) => {
    const owner = target.constructor;
    let byProperty = nestedTypes.get(owner);
    if (!byProperty) nestedTypes.set(owner, (byProperty = new Map()));
    if (typeof property === 'string') byProperty.set(property, type);
  });
