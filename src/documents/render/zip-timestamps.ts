/**
 * Every entry of a zip dated `at` (the last event the document holds) instead of the moment it
 * was rendered: ExcelJS zips the workbook with JSZip, which dates each entry `new Date()`, so two
 * downloads of one register at one position differed in those bytes alone, and an auditor could
 * not compare a kept XLSX byte for byte (README "Regenerating and comparing"). JSZip offers no
 * date for the files ExcelJS adds, and unzipping and zipping again would inflate and deflate every
 * sheet a second time, so the two date fields of each local header and each central directory
 * record are written in place (PKWARE APPNOTE 4.3.7, 4.3.12, 4.3.16; DOS time, read as UTC as
 * JSZip writes and reads it).
 */

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
/** The end record's fixed part; a zip comment of up to 65,535 bytes may follow it. */
const END_RECORD_SIZE = 22;

/** A date as DOS date and time (2-second resolution, 1980 to 2107), in UTC; earlier dates are 1980-01-01 00:00. */
export function dosDateTime(at: Date): { date: number; time: number } {
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1980) return { date: (1 << 5) | 1, time: 0 };
  const year = Math.min(at.getUTCFullYear(), 2107) - 1980;
  return {
    date: (year << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | (at.getUTCSeconds() >> 1),
  };
}

/** The same zip with every entry dated `at`; throws on what is not a plain (non-ZIP64) zip. */
export function stampZipEntries(zip: Buffer, at: Date): Buffer {
  const { date, time } = dosDateTime(at);
  const end = endRecord(zip);
  const entries = zip.readUInt16LE(end + 10);
  let record = zip.readUInt32LE(end + 16);
  for (let i = 0; i < entries; i++) {
    if (record + 46 > zip.length || zip.readUInt32LE(record) !== CENTRAL_HEADER) throw new Error(`zip: no central directory record ${i} at ${record}`);
    zip.writeUInt16LE(time, record + 12);
    zip.writeUInt16LE(date, record + 14);
    const local = zip.readUInt32LE(record + 42);
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== LOCAL_HEADER) throw new Error(`zip: no local header at ${local}`);
    zip.writeUInt16LE(time, local + 10);
    zip.writeUInt16LE(date, local + 12);
    record += 46 + zip.readUInt16LE(record + 28) + zip.readUInt16LE(record + 30) + zip.readUInt16LE(record + 32);
  }
  return zip;
}

function endRecord(zip: Buffer): number {
  for (let at = zip.length - END_RECORD_SIZE; at >= Math.max(0, zip.length - END_RECORD_SIZE - 0xffff); at--) {
    if (zip.readUInt32LE(at) !== END_OF_CENTRAL_DIRECTORY) continue;
    // ZIP64 marks its counts and offsets 0xFFFF / 0xFFFFFFFF: never written for documents of this size.
    if (zip.readUInt16LE(at + 10) === 0xffff || zip.readUInt32LE(at + 16) === 0xffffffff) throw new Error('zip: ZIP64 is not stamped');
    return at;
  }
  throw new Error('zip: no end of central directory record');
}
