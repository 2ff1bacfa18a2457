/**
 * Which media types an evidence file may have, and whether what its bytes are (as sniffed) agrees
 * with what the uploader declared. Pure: the sniffing itself happens in the application layer.
 */

const OOXML = {
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
} as const;
const ODF = {
  odt: 'application/vnd.oasis.opendocument.text',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  odp: 'application/vnd.oasis.opendocument.presentation',
} as const;

/** Text types: no magic number; their bytes must be UTF-8 without NUL and sniff as nothing binary. */
export const TEXT_MEDIA_TYPES = ['text/plain', 'text/csv', 'text/markdown'] as const;

/** Declared type → the sniffed types that agree with it (null: nothing sniffed, i.e. text). */
const ACCEPTED: Record<string, readonly (string | null)[]> = {
  'application/pdf': ['application/pdf'],
  'image/png': ['image/png'],
  'image/jpeg': ['image/jpeg'],
  'image/gif': ['image/gif'],
  'image/webp': ['image/webp'],
  'image/tiff': ['image/tiff'],
  // Older Office files are compound documents (CFB), which sniffing cannot tell apart.
  'application/msword': ['application/x-cfb'],
  'application/vnd.ms-excel': ['application/x-cfb'],
  'application/vnd.ms-powerpoint': ['application/x-cfb'],
  'application/vnd.ms-outlook': ['application/x-cfb'],
  [OOXML.docx]: [OOXML.docx],
  [OOXML.xlsx]: [OOXML.xlsx],
  [OOXML.pptx]: [OOXML.pptx],
  [ODF.odt]: [ODF.odt],
  [ODF.ods]: [ODF.ods],
  [ODF.odp]: [ODF.odp],
  // An archive of several documents; an Office or ODF file sent as a plain zip is still a zip.
  'application/zip': ['application/zip', ...Object.values(OOXML), ...Object.values(ODF)],
  'text/plain': [null],
  'text/csv': [null],
  'text/markdown': [null],
};

export const ALLOWED_MEDIA_TYPES: readonly string[] = Object.keys(ACCEPTED);

/** Sniffed types whose signature is long or structural enough never to be text by chance: documents, images, archives. */
const STRONG_SIGNATURES: ReadonlySet<string> = new Set([
  ...Object.values(ACCEPTED).flatMap((types) => types.filter((t): t is string => t !== null)),
  'application/gzip',
  'application/x-bzip2',
  'application/x-xz',
  'application/x-7z-compressed',
  'application/x-rar-compressed',
  'application/x-tar',
  'application/x-sqlite3',
]);

/** `Text/Plain; charset=utf-8` → `text/plain`; null when it is not a type/subtype. */
export function mediaTypeEssence(contentType: string | undefined | null): string | null {
  if (!contentType) return null;
  const essence = contentType.split(';')[0]!.trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(essence) ? essence : null;
}

export function isAllowedMediaType(essence: string): boolean {
  return Object.hasOwn(ACCEPTED, essence);
}

export function isTextMediaType(essence: string): boolean {
  return (TEXT_MEDIA_TYPES as readonly string[]).includes(essence);
}

/**
 * Whether sniffed bytes agree with the declared (allowed) type. `sniffed` is the detected media
 * type or null when nothing was recognised; `looksLikeText` whether the bytes are UTF-8 without NUL.
 */
export function contentAgrees(declared: string, sniffed: string | null, looksLikeText: boolean): boolean {
  const accepted = ACCEPTED[declared];
  if (!accepted) return false;
  if (sniffed === null) return accepted.includes(null) && looksLikeText;
  // Text (UTF-8, no NUL) may happen to start with a weak magic number ("BM-001," reads as a BMP,
  // "MZ…" as an executable): only a strong binary signature contradicts a declared text type.
  if (accepted.includes(null) && looksLikeText) return !STRONG_SIGNATURES.has(sniffed);
  return accepted.includes(sniffed);
}
