import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validate, ValidationTypes, type ValidationArguments, type ValidationError } from 'class-validator';
import { BadInputError } from '../shared/domain/errors.js';
import { INPUT_LIMITS, nestedInputType, VALUE_ONLY_LIMITS } from './input-limits.js';

/**
 * A list this long is refused before class-validator looks at it (every ListLimit is at most the
 * contract's 500 items); below it, class-validator names every field at fault.
 */
const LARGEST_LIST = 2_000;

/**
 * A list far past every limit is refused before class-validator builds and checks each of its
 * items (5,000 nested controls would otherwise take seconds of CPU to refuse). Returns where it
 * is, as path segments (outermost first), or undefined; segments are built only for the list
 * found, not for every item walked (this runs on every input).
 */
function oversizedList(value: unknown, depth = 0): (string | number)[] | undefined {
  if (depth > 8 || value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    if (value.length > LARGEST_LIST) return [];
    for (let i = 0; i < value.length; i++) {
      const found = oversizedList(value[i], depth + 1);
      if (found) return [i, ...found];
    }
    return undefined;
  }
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const found = oversizedList((value as Record<string, unknown>)[key], depth + 1);
    if (found) return [key, ...found];
  }
  return undefined;
}

/** `controls[3].title` from its segments. */
const pathOf = (segments: (string | number)[]): string =>
  segments.reduce<string>((path, s) => (typeof s === 'number' ? `${path}[${s}]` : path ? `${path}.${s}` : s), '');

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

/** One property's limits as the fast path runs them: value-only validators, and the class of a nested input. */
interface PropertyPlan {
  key: string;
  checks: { validate: (value: unknown, args: ValidationArguments) => unknown; constraints: unknown[] }[];
  nested?: Function;
}

/** Per input class: its properties' plans, or 'slow' when only class-validator itself may judge it. */
const plans = new WeakMap<Function, readonly PropertyPlan[] | 'slow'>();

/**
 * The class's limits as class-validator's validate() finds them (the same metadata query), each
 * kept only if the fast path can run it exactly: a value-only limit of input-limits.ts (not `each`,
 * no condition), or a NestedInput whose class is known. Anything else makes the class 'slow'; so
 * does a property the class initialises (plainToInstance would keep that default for a missing key).
 */
function planOf(type: Function): readonly PropertyPlan[] | 'slow' {
  let plan = plans.get(type);
  if (plan === undefined) plans.set(type, (plan = compilePlan(type)));
  return plan;
}

function compilePlan(type: Function): readonly PropertyPlan[] | 'slow' {
  const storage = getMetadataStorage();
  let blank: Record<string, unknown>;
  try {
    blank = new (type as new () => Record<string, unknown>)();
  } catch {
    return 'slow';
  }
  const byKey = new Map<string, PropertyPlan>();
  for (const m of storage.getTargetValidationMetadatas(type, '', false, false)) {
    const key = m.propertyName;
    if (blank[key] !== undefined || m.validateIf) return 'slow';
    let plan = byKey.get(key);
    if (!plan) byKey.set(key, (plan = { key, checks: [] }));
    if (m.type === ValidationTypes.CUSTOM_VALIDATION && m.name !== undefined && VALUE_ONLY_LIMITS.has(m.name) && !m.each) {
      const constraints = storage.getTargetValidatorConstraints(m.constraintCls);
      if (constraints.length !== 1 || constraints[0]!.async) return 'slow';
      const instance = constraints[0]!.instance as { validate: (value: unknown, args: ValidationArguments) => unknown };
      plan.checks.push({ validate: (value, args) => instance.validate(value, args), constraints: m.constraints ?? [] });
    } else if (m.type === ValidationTypes.NESTED_VALIDATION) {
      const nested = nestedInputType(type, key);
      if (!nested) return 'slow';
      plan.nested = nested;
    } else return 'slow';
  }
  return [...byKey.values()];
}

/** Whether inputs of this class (and of the inputs nested in it) can be judged without class-validator. */
export function judgedOnPlainValues(type: Function, depth = 0): boolean {
  const plan = planOf(type);
  return plan !== 'slow' && depth <= 16 && plan.every((p) => !p.nested || judgedOnPlainValues(p.nested, depth + 1));
}

/**
 * True only when class-validator would find no error in `value` as an instance of `type` (what
 * plainToInstance makes of it): the same value-only validators on the same property values, and
 * nested inputs checked as class-validator's ValidateNested does. False means "not sure": the
 * caller then lets class-transformer and class-validator decide, and report, as before.
 */
function surelyValid(type: Function, value: object, depth: number): boolean {
  const plan = planOf(type);
  if (plan === 'slow' || depth > 16) return false;
  for (const p of plan) {
    const v = (value as Record<string, unknown>)[p.key];
    for (const check of p.checks) {
      const ok = check.validate(v, { targetName: type.name, property: p.key, object: value, value: v, constraints: check.constraints });
      if (!ok || typeof (ok as { then?: unknown }).then === 'function') return false;
    }
    if (p.nested && v !== undefined && !nestedSurelyValid(p.nested, v, depth)) return false;
  }
  return true;
}

/** ValidateNested: undefined passes, objects are checked with their class, list items one by one; null or a scalar is an error. */
function nestedSurelyValid(type: Function, v: unknown, depth: number): boolean {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (item === undefined) continue;
      if (item === null || typeof item !== 'object' || Array.isArray(item) || !surelyValid(type, item, depth + 1)) return false;
    }
    return true;
  }
  return v !== null && typeof v === 'object' && surelyValid(type, v, depth + 1);
}

/**
 * Checks GraphQL input objects against their class-validator limits (src/graphql/input-limits.ts)
 * before a resolver runs: a violation is BAD_USER_INPUT with `fields` naming each field. Only
 * classes that declare limits are checked; the value itself is passed on untouched.
 *
 * An input within its limits (nearly every request) is recognised on the plain value by the
 * limits' own validators (surelyValid); class-transformer and class-validator, which cost a
 * request about 3% of its CPU, then run only on inputs that may break a limit, to name the fields.
 */
@Injectable()
export class InputValidationPipe implements PipeTransform {
  async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const type = metadata.metatype as (new () => object) | undefined;
    if (!type || value === null || typeof value !== 'object') return value;
    if (!declaresLimits(type)) return value;
    const oversized = oversizedList(value);
    if (oversized) throw new BadInputError({ [pathOf(oversized) || 'input']: `must have at most ${INPUT_LIMITS.items} items` });
    if (Array.isArray(value) ? value.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v) && surelyValid(type, v, 0)) : surelyValid(type, value, 0)) return value;
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
