import { en } from './en.js';
import { ja, type Messages } from './ja.js';

export type { Messages } from './ja.js';

export const LANGUAGES = ['ja', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

const CATALOGUES: Record<Language, Messages> = { ja, en };

export function messagesFor(lang: Language): Messages {
  return CATALOGUES[lang];
}

/** `{name}` in a message replaced by the value given (left as is when none is). */
export function fill(message: string, values: Record<string, string | number | null | undefined>): string {
  return message.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = values[name];
    return value === undefined || value === null ? whole : String(value);
  });
}

/** The label of an enum value from a catalogue section; the code itself when the catalogue has none (a value added later). */
export function labelOf(section: Record<string, string>, code: string | null | undefined, none: string): string {
  if (code === null || code === undefined || code === '') return none;
  return Object.hasOwn(section, code) ? section[code]! : code;
}
