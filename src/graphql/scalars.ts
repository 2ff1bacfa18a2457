import { GraphQLScalarType, Kind, print, type ValueNode } from 'graphql';
import { GraphQLJSON } from 'graphql-scalars';
import { isRealDate } from '../shared/domain/guards.js';
export { GraphQLJSON };

/**
 * ISO 8601: a calendar date (`2026-03-01`, midnight UTC) or a date-time with seconds optional,
 * a fraction optional and an offset required (`2026-03-01T09:00:00+09:00`, `…Z`), so that it
 * names one instant.
 */
const ISO_8601 = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2})))?$/;

const EXPECTED = 'must be an ISO 8601 date or date-time with offset (such as 2026-03-01T09:00:00Z) on a real calendar date, up to the end of 9999-12-31 in Japan (9999-12-31T14:59:59.999Z)';

/**
 * The last instant whose day in Japan has four digits: days are compared as YYYY-MM-DD strings
 * (dayInJapan), and 9999-12-31T20:00Z is "+010000-01-01" there, which sorts before every day.
 */
const LAST_INSTANT = Date.parse('9999-12-31T14:59:59.999Z');

/** The instant `text` names, or null when it is not ISO 8601 on a real calendar date. */
export function parseIsoDateTime(text: string): Date | null {
  const m = ISO_8601.exec(text);
  if (!m || !isRealDate(m[1])) return null;
  const [hours, minutes, seconds, offsetHours, offsetMinutes] = [m[2], m[3], m[4], m[5], m[6]].map((n) => (n === undefined ? 0 : Number(n)));
  if (hours! > 23 || minutes! > 59 || seconds! > 59 || offsetHours! > 23 || offsetMinutes! > 59) return null;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) || at.getTime() > LAST_INSTANT ? null : at;
}

function parse(value: unknown, shown: string): Date {
  const at = typeof value === 'string' ? parseIsoDateTime(value) : null;
  // A plain error: GraphQL wraps it with the location of the value, so the argument can be named.
  if (!at) throw new TypeError(`DateTime ${EXPECTED}, got ${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}`);
  return at;
}

/**
 * The schema's `DateTime` (same name as @nestjs/graphql's GraphQLISODateTime), but strict: "garbage", "", month 13 or 2026-02-30 are refused
 * while the request is validated (BAD_USER_INPUT) instead of becoming an Invalid Date or a
 * silently rolled-over day.
 */
export const StrictDateTime = new GraphQLScalarType({
  name: 'DateTime',
  description:
    'An instant as an ISO 8601 string. Answers are in UTC with milliseconds, such as 2026-03-01T00:00:00.000Z. Arguments take a date-time with an offset ' +
    '(2026-03-01T09:00:00+09:00 or …Z; seconds and fraction optional) or a calendar date (2026-03-01, midnight UTC), on a real calendar date, at most 9999-12-31T14:59:59.999Z (the end of year 9999 in Japan); anything else is BAD_USER_INPUT.',
  serialize(value) {
    return value instanceof Date ? value.toISOString() : null;
  },
  parseValue(value) {
    return parse(value, JSON.stringify(value) ?? String(value));
  },
  parseLiteral(ast: ValueNode) {
    return parse(ast.kind === Kind.STRING ? ast.value : undefined, print(ast));
  },
});
