import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validate, type ValidationError } from 'class-validator';
import { BadInputError } from '../shared/domain/errors.js';
import { INPUT_LIMITS } from './input-limits.js';

/** No list of any input is allowed more items than this (the largest ListLimit, a catalogue's requirements). */
const LARGEST_LIST = 2_000;

/**
 * A list far past every limit is refused before class-validator builds and checks each of its
 * items (5,000 nested controls would otherwise take seconds of CPU to refuse).
 */
function oversizedList(value: unknown, path: string, depth = 0): string | undefined {
  if (depth > 8 || value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    if (value.length > LARGEST_LIST) return path;
    for (let i = 0; i < value.length; i++) {
      const found = oversizedList(value[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    const found = oversizedList(v, path ? `${path}.${key}` : key, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** `controls[3].title`: the path of each failed constraint, with what is wrong there. */
function fieldsOf(errors: ValidationError[], prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const error of errors) {
    const path = /^\d+$/.test(error.property) ? `${prefix}[${error.property}]` : prefix ? `${prefix}.${error.property}` : error.property;
    if (error.constraints) out[path] = Object.values(error.constraints).join('; ');
    if (error.children?.length) fieldsOf(error.children, path, out);
  }
  return out;
}

/** Per input class: whether it declares limits (decorators run when the class is defined, so this never changes). */
const hasLimits = new WeakMap<Function, boolean>();
function declaresLimits(type: Function): boolean {
  let known = hasLimits.get(type);
  if (known === undefined) hasLimits.set(type, (known = getMetadataStorage().getTargetValidationMetadatas(type, '', true, false).length > 0));
  return known;
}

/**
 * Checks GraphQL input objects against their class-validator limits (src/graphql/input-limits.ts)
 * before a resolver runs: a violation is BAD_USER_INPUT with `fields` naming each field. Only
 * classes that declare limits are checked; the value itself is passed on untouched.
 */
@Injectable()
export class InputValidationPipe implements PipeTransform {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const type = metadata.metatype as (new () => object) | undefined;
    if (!type || value === null || typeof value !== 'object') return value;
    if (!declaresLimits(type)) return value;
    const oversized = oversizedList(value, '');
    if (oversized !== undefined) throw new BadInputError({ [oversized || 'input']: `must have at most ${INPUT_LIMITS.items} items (${LARGEST_LIST} for the few lists allowed more)` });
    const candidates = Array.isArray(value) ? value.map((v) => plainToInstance(type, v as object)) : [plainToInstance(type, value)];
    const fields: Record<string, string> = {};
    for (const [i, candidate] of candidates.entries()) {
      const errors = await validate(candidate, { forbidUnknownValues: false, validationError: { target: false, value: false } });
      fieldsOf(errors, Array.isArray(value) ? `[${i}]` : '', fields);
    }
    if (Object.keys(fields).length) throw new BadInputError(fields);
    return value;
  }
}
