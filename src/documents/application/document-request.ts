/**
 * The query string of a document request, validated: `lang` (ja, default; en), `asOf` (an ISO
 * 8601 instant) or `atPosition` (a log position), not both, and the document's own parameters.
 * A bad value, a value given twice or both points is BAD_USER_INPUT naming the parameter.
 */
import { parseIsoDateTime } from '../../graphql/scalars.js';
import { pointInTime, type PointInTime } from '../../shared/application/point-in-time.js';
import { BadInputError } from '../../shared/domain/errors.js';
import { LANGUAGES, type Language } from '../messages/index.js';

export interface DocumentRequest {
  lang: Language;
  /** null: now (the head of the log when the request is served). */
  point: PointInTime | null;
}

const MAX_PARAMETER_LENGTH = 128;

/** The one value of a parameter (undefined when absent); repeated or too long is refused. */
export function single(params: URLSearchParams, name: string, errors: Record<string, string>): string | undefined {
  const values = params.getAll(name);
  if (values.length === 0) return undefined;
  if (values.length > 1) {
    errors[name] = 'is given more than once';
    return undefined;
  }
  const value = values[0]!;
  if (value.length > MAX_PARAMETER_LENGTH) {
    errors[name] = `is longer than ${MAX_PARAMETER_LENGTH} characters`;
    return undefined;
  }
  return value;
}

/** Parses lang/asOf/atPosition and, through `extra`, the document's own parameters; throws BadInputError with every bad one named. */
export function documentRequest<T>(params: URLSearchParams, extra: (errors: Record<string, string>) => T): DocumentRequest & T {
  const errors: Record<string, string> = {};
  const lang = single(params, 'lang', errors);
  if (lang !== undefined && !(LANGUAGES as readonly string[]).includes(lang)) errors.lang = `must be one of ${LANGUAGES.join(', ')}`;
  const asOfText = single(params, 'asOf', errors);
  const asOf = asOfText === undefined ? null : parseIsoDateTime(asOfText);
  if (asOfText !== undefined && !asOf) errors.asOf = 'must be an ISO 8601 date or date-time with offset (such as 2026-03-01T09:00:00Z) on a real calendar date';
  const atPosition = single(params, 'atPosition', errors);
  const own = extra(errors);
  let point: PointInTime | null = null;
  if (!errors.asOf && !errors.atPosition) {
    try {
      point = pointInTime(asOf, atPosition ?? null);
    } catch (error) {
      if (!(error instanceof BadInputError)) throw error;
      Object.assign(errors, error.fields);
    }
  }
  if (Object.keys(errors).length > 0) throw new BadInputError(errors);
  return { lang: (lang ?? 'ja') as Language, point, ...own };
}
