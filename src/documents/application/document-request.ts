/**
 * The query string of a document request, validated: `lang` (ja, default; en), `asOf` (an ISO
 * 8601 instant) or `atPosition` (a log position), not both, and the document's own parameters.
 * A bad value, a value given twice, both points, or a parameter the document does not take (a
 * misspelt `atposition` would otherwise give today's document) is BAD_USER_INPUT naming it.
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
/** The parameters every document takes; a document's own ones are passed to documentRequest. */
const COMMON_PARAMETERS = ['lang', 'asOf', 'atPosition'] as const;

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

/**
 * Parses lang/asOf/atPosition and, through `extra`, the document's own parameters (named in
 * `own`, e.g. riskId or section); throws BadInputError with every bad or unknown one named.
 */
export function documentRequest<T>(params: URLSearchParams, extra: (errors: Record<string, string>) => T, own: readonly string[] = []): DocumentRequest & T {
  // Without a prototype: a parameter named __proto__ was set as the object's prototype, not as a
  // refusal, and the document was served (hostile-input probe).
  const errors = Object.create(null) as Record<string, string>;
  const known = [...COMMON_PARAMETERS, ...own];
  for (const name of new Set(params.keys())) {
    if (Object.keys(errors).length >= 5) break; // enough to act on; the message stays short
    if (!known.includes(name)) errors[name.slice(0, MAX_PARAMETER_LENGTH)] = `is not a parameter of this document (it takes ${known.join(', ')})`;
  }
  const lang = single(params, 'lang', errors);
  if (lang !== undefined && !(LANGUAGES as readonly string[]).includes(lang)) errors.lang = `must be one of ${LANGUAGES.join(', ')}`;
  const asOfText = plusRestored(single(params, 'asOf', errors));
  const asOf = asOfText === undefined ? null : parseIsoDateTime(asOfText);
  if (asOfText !== undefined && !asOf) errors.asOf = 'must be an ISO 8601 date or date-time with offset (such as 2026-03-01T09:00:00Z, or 2026-03-01T18:00:00%2B09:00 with the plus sign percent-encoded) on a real calendar date, up to the end of 9999-12-31 in Japan (9999-12-31T14:59:59.999Z), as the GraphQL DateTime';
  const atPosition = single(params, 'atPosition', errors);
  const parsed = extra(errors);
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
  return { lang: (lang ?? 'ja') as Language, point, ...parsed };
}

/**
 * A query string decodes `+` as a space, so `asOf=2026-12-05T13:17:11+09:00` typed into a browser
 * or curl arrives as `…13:17:11 09:00`, refused with no hint (auditor probe F8). A space just
 * before the offset of a date-time can only have been a plus: it is read as one.
 */
function plusRestored(text: string | undefined): string | undefined {
  return text === undefined ? undefined : text.replace(/^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:\d{2})$/, '$1+$2');
}
