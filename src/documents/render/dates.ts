/**
 * Dates as the documents print them. Japanese documents give both calendars, the era first as
 * official papers do: 令和8年11月30日（2026-11-30）. Instants are shown as the day and time in
 * Japan (JST, UTC+9, no daylight saving) in Japanese, and as UTC in English. Everything is
 * computed from the value alone (never the clock or the machine's zone), so a document rendered
 * twice is the same.
 */
import type { Language } from '../messages/index.js';

const JAPAN_OFFSET_MS = 9 * 3600_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

const eraFormat = new Intl.DateTimeFormat('ja-JP-u-ca-japanese', { era: 'long', year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

/** 令和8年11月30日 for 2026-11-30 (平成31年4月30日, then 令和元年5月1日). */
export function japaneseEraDate(day: string): string {
  const m = DAY.exec(day);
  if (!m) return day;
  return eraFormat.format(new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))));
}

/** A calendar day (YYYY-MM-DD): both calendars in Japanese, the ISO day in English. */
export function formatDay(day: string | null | undefined, lang: Language): string {
  if (!day) return '';
  if (!DAY.test(day)) return day;
  return lang === 'ja' ? `${japaneseEraDate(day)}（${day}）` : day;
}

/** The day (YYYY-MM-DD) and time (HH:MM:SS) of an instant, in Japan for ja, in UTC for en. */
export function instantParts(at: string, lang: Language): { day: string; time: string } | null {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return null;
  const iso = new Date(ms + (lang === 'ja' ? JAPAN_OFFSET_MS : 0)).toISOString();
  return { day: iso.slice(0, 10), time: iso.slice(11, 19) };
}

/** An instant: 令和8年11月30日（2026-11-30）14:03:05 JST in Japanese, 2026-11-30 05:03:05 UTC in English. */
export function formatInstant(at: string | null | undefined, lang: Language): string {
  if (!at) return '';
  const parts = instantParts(at, lang);
  if (!parts) return at;
  return lang === 'ja' ? `${formatDay(parts.day, lang)}${parts.time} JST` : `${parts.day} ${parts.time} UTC`;
}

/**
 * An instant as the Date a spreadsheet cell shows as that wall-clock time (spreadsheets have no
 * zones): Japan time for ja, UTC for en, as the column headers say.
 */
export function spreadsheetInstant(at: string | null | undefined, lang: Language): Date | null {
  if (!at) return null;
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) return null;
  return new Date(ms + (lang === 'ja' ? JAPAN_OFFSET_MS : 0));
}

/** A calendar day as a Date at UTC midnight (what a spreadsheet shows as that day). */
export function spreadsheetDay(day: string | null | undefined): Date | null {
  if (!day) return null;
  const m = DAY.exec(day);
  return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : null;
}
