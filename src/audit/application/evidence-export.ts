/**
 * Evidence export for auditors: the whole log as NDJSON plus a manifest that anchors it, an
 * offline verifier that needs neither server nor database (the import that reproduces the
 * log, same hashes, in an empty store is evidence-import.ts).
 *
 * NDJSON: one line per event, the RecordedEvent as stored, written as canonical JSON (keys
 * sorted, no whitespace: hash-chain.ts canonicalJson), so that two exports of the same log are
 * byte-identical. The manifest (FILE.manifest.json) records what the chain alone cannot prove:
 * how many events there were and which event was the head (position + global chain hash), the
 * head of every stream, and the file's SHA-256. Keep the manifest (or at least its head chain
 * hash and SHA-256) somewhere the holder of the log cannot rewrite it: in the audit report, a
 * signed e-mail, a timestamping service.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { EventStore, RecordedEvent } from '../../event-store/event-store.port.js';
import { canonicalJson, decodePosition } from '../../event-store/hash-chain.js';
import {
  IntegrityVerifier,
  LogFormatError,
  readLog,
  readSignatures,
  storeWritesChain,
  verifyEvents,
  type IntegrityReport,
  type StreamHead,
} from '../../event-store/integrity-verifier.js';
import { TrustedKeys, type HeadSignature, type PublicKeyInfo } from '../../event-store/signing.js';
import { AnchorCheck, anchoredReport, verifyAnchored, type AnchoredIntegrityReport, type LogAnchor } from '../../event-store/anchored-verification.js';
import type { EvidenceBlobStore } from '../../evidence/application/evidence-blobs.js';
import { syncDirectory, syncFile, writeFileDurably } from '../../shared/application/durable-files.js';
import { boundedLines, exportLineLimits } from './export-lines.js';
import { CitedEvidence, companionPath, damagedEvidenceFiles, verifyEvidenceFiles, writeEvidenceFiles, type ExportedEvidenceFiles } from './export-evidence-files.js';

/** Version 2 adds the signed chain heads (a sidecar NDJSON file) and the public keys. */
export const EXPORT_FORMAT = 'risk-ledger-export/2';
const READABLE_FORMATS = ['risk-ledger-export/1', EXPORT_FORMAT];

export interface ExportManifest {
  format: string;
  exportedAt: string;
  /** The adapter the log was read from. */
  source: { adapter: string };
  eventCount: number;
  firstPosition: string | null;
  headPosition: string | null;
  headChainHash: string | null;
  streamHeads: Record<string, StreamHead>;
  /** Every risk-criteria version the log names (RiskCriteriaProposed / RiskCriteriaApproved). */
  criteriaVersions: { criteriaId: string; number: number }[];
  /** recordedAt of the earliest and latest events (null for an empty log). */
  timeRange: { from: string | null; to: string | null };
  ndjsonSha256: string;
  /** The verifier's verdict on the log at export time (an export of a broken log is still written, as evidence). */
  integrity: { ok: boolean; firstBrokenPosition: string | null; reason: string | null };
  /** Format 2: the signed chain heads, one NDJSON line each, in FILE.signatures.ndjson. */
  signatures?: { file: string; count: number; sha256: string };
  /** Format 2: the public keys the exporting server trusted (informative: a verifier chooses whom to trust). */
  publicKeys?: PublicKeyInfo[];
  /** The evidence files the log cites, written to FILE.evidence/<sha256> (see export-evidence-files.ts). */
  evidenceFiles?: ExportedEvidenceFiles;
}

export type ProgressCallback = (done: number, total: number) => void;

export function manifestPathFor(file: string): string {
  return `${file}.manifest.json`;
}

export function signaturesPathFor(file: string): string {
  return `${file}.signatures.ndjson`;
}

/** The NDJSON line of an event (without the newline). */
export function exportLine(event: RecordedEvent): string {
  return canonicalJson(event);
}

/** Rough number of events up to a position (exact for gap-free adapters: SQLite, memory). */
export function estimatedCount(head: string | null): number {
  // Only the gap-free counters of SQLite, memory and PostgreSQL tell how many events precede a position.
  if (head === null || !/^\d{1,19}$/.test(head)) return 0;
  const n = decodePosition(head);
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(n);
}

// ------------------------------------------------------------------------------------ export

export interface ExportResult {
  file: string;
  manifestFile: string;
  manifest: ExportManifest;
  /** Whether the integrity verdict is the anchor's: the log, whose chain verifies, no longer contains the anchor's head. */
  anchorBroken: boolean;
}

/**
 * Streams the log (pages of `pageSize`) into `file` and writes `file.manifest.json`. The log is
 * read up to the head as it stood when the export started; memory holds one page and one entry
 * per stream. Both files are written under a temporary name and renamed at the end, so a failed
 * export never leaves a plausible-looking file behind. With an `anchor` (a head recorded earlier:
 * the one the server verified), the manifest's integrity is ok only if the log still contains it.
 */
export async function exportLog(
  store: EventStore,
  file: string,
  options: { pageSize?: number; onProgress?: ProgressCallback; now?: () => Date; trusted?: TrustedKeys; evidence?: EvidenceBlobStore; anchor?: LogAnchor | null } = {},
): Promise<ExportResult> {
  const head = await store.headPosition();
  const anchor = options.anchor ?? null;
  const check = anchor ? new AnchorCheck(anchor) : null;
  // The signed heads up to the same head, written beside the events.
  const signatureLines: string[] = [];
  const signatures: HeadSignature[] = [];
  for await (const signature of readSignatures(store, { upTo: head })) {
    signatures.push(signature);
    signatureLines.push(canonicalJson(signature) + '\n');
  }
  const total = estimatedCount(head);
  const partial = `${file}.partial`;
  // Created anew, never through what is there: a link planted at FILE.partial was followed, and the
  // export overwrote the file it pointed at.
  rmSync(partial, { force: true });
  const out = createWriteStream(partial, { flags: 'wx' });
  let writeError: Error | null = null;
  out.on('error', (error) => {
    writeError ??= error;
  });
  const sha = createHash('sha256');
  // The store's events are JSON.parse products (parsedEvents); an import checks a file from elsewhere with the reference.
  const verifier = new IntegrityVerifier({ requireChain: storeWritesChain(store), trusted: options.trusted, parsedEvents: true });
  let nextSignature = 0;
  const streamHeads = new Map<string, StreamHead>();
  const criteria = new Map<string, number>();
  let count = 0;
  let firstPosition: string | null = null;
  let lastPosition: string | null = null;
  let lastChainHash: string | null = null;
  let from: string | null = null;
  let to: string | null = null;
  let buffer = '';
  const cited = new CitedEvidence();

  // A write that fails (a full disk) ends the stream with 'close' and no 'drain': waiting for
  // 'drain' alone, or for end()'s callback, left an export idle for ever (fault probe).
  const write = async (text: string): Promise<void> => {
    if (writeError) throw writeError;
    sha.update(text);
    if (!out.write(text)) {
      // The listener of the event that did not come is removed (a 'close' listener left per wait
      // grew past the emitter's limit on exports over ~700 KB: MaxListenersExceededWarning).
      const done = new AbortController();
      const either = (event: string) => once(out, event, { signal: done.signal }).then(() => undefined, () => undefined);
      await Promise.race([either('drain'), either('close')]);
      done.abort();
    }
    if (writeError) throw writeError;
  };

  try {
    for await (const event of readLog(store, { pageSize: options.pageSize ?? 1000, upTo: head })) {
      buffer += exportLine(event) + '\n';
      if (buffer.length >= 1 << 16) {
        await write(buffer);
        buffer = '';
      }
      verifier.check(event);
      check?.observe(event);
      cited.observe(event);
      while (nextSignature < signatures.length && signatures[nextSignature]!.position <= event.position) {
        const signature = signatures[nextSignature++]!;
        if (signature.position === event.position) verifier.checkSignature(signature);
        else verifier.fail(signature.position, `the signed head at ${signature.position} names no event of the log: events were deleted, inserted or reordered`);
      }
      count++;
      firstPosition ??= event.position;
      lastPosition = event.position;
      lastChainHash = event.chainHash ?? null;
      streamHeads.set(event.streamId, { revision: event.revision, hash: event.hash });
      if (from === null || event.recordedAt < from) from = event.recordedAt;
      if (to === null || event.recordedAt > to) to = event.recordedAt;
      if (event.type === 'RiskCriteriaProposed' || event.type === 'RiskCriteriaApproved') {
        const { criteriaId, number } = event.data as { criteriaId?: unknown; number?: unknown };
        if (typeof criteriaId === 'string' && typeof number === 'number' && !criteria.has(criteriaId)) criteria.set(criteriaId, number);
      }
      options.onProgress?.(count, total);
    }
    if (buffer) await write(buffer);
    out.end();
    await finished(out);
    if (writeError) throw writeError;
    await syncFile(partial);
  } catch (error) {
    if (!out.closed) await new Promise<void>((resolve) => out.once('close', () => resolve()).destroy()); // closed (and opened) before it is removed
    rmSync(partial, { force: true });
    throw error;
  }

  if (nextSignature < signatures.length) verifier.fail(signatures[nextSignature]!.position, `the signed head at ${signatures[nextSignature]!.position} is missing from the log: the newest events were deleted`);
  verifier.finish();
  const report = anchoredReport(verifier.report(), check, anchor);
  const signaturesFile = signaturesPathFor(file);
  const manifestFile = manifestPathFor(file);
  const signaturesText = signatureLines.join('');
  // Every file is written and synced under a temporary name first; only then are they put in
  // place, the manifest last (an earlier manifest removed before): a failure leaves no file under
  // its final name that disagrees with a manifest (a new log beside the old manifest read as
  // tampering), and a crash in between leaves an export without its manifest, never a wrong one.
  const evidence = await writeEvidenceFiles(file, cited.all, options.evidence).catch((error: unknown) => {
    rmSync(partial, { force: true });
    throw error;
  });
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    exportedAt: (options.now?.() ?? new Date()).toISOString(),
    source: { adapter: store.adapterName },
    eventCount: count,
    firstPosition,
    headPosition: lastPosition,
    headChainHash: lastChainHash,
    streamHeads: Object.fromEntries(streamHeads),
    criteriaVersions: [...criteria].map(([criteriaId, number]) => ({ criteriaId, number })).sort((a, b) => a.number - b.number),
    timeRange: { from, to },
    ndjsonSha256: sha.digest('hex'),
    integrity: { ok: report.ok && !evidence.problem, firstBrokenPosition: report.firstBrokenPosition, reason: report.reason ?? evidence.problem },
    signatures: { file: signaturesFile.split('/').pop()!, count: signatures.length, sha256: createHash('sha256').update(signaturesText).digest('hex') },
    publicKeys: options.trusted?.list() ?? [],
    evidenceFiles: evidence.entry,
  };
  const written = [partial, `${signaturesFile}.partial`, `${manifestFile}.partial`];
  try {
    await writeFileDurably(`${signaturesFile}.partial`, signaturesText);
    await writeFileDurably(`${manifestFile}.partial`, JSON.stringify(manifest, null, 2) + '\n');
  } catch (error) {
    // What this export wrote goes; something else found at a temporary name (a folder) stays.
    for (const path of written) {
      try {
        rmSync(path, { force: true });
      } catch {
        // not ours to remove
      }
    }
    await evidence.discard();
    throw error;
  }
  rmSync(manifestFile, { force: true });
  await evidence.place();
  renameSync(`${signaturesFile}.partial`, signaturesFile);
  renameSync(partial, file);
  renameSync(`${manifestFile}.partial`, manifestFile);
  await syncDirectory(dirname(resolve(file)));
  return { file, manifestFile, manifest, anchorBroken: report.anchorOk === false && report.anchorReason === report.reason };
}

// ------------------------------------------------------------------------------------ reading an export

const EVENT_FIELDS: [keyof RecordedEvent, 'string' | 'number' | 'object'][] = [
  ['eventId', 'string'],
  ['type', 'string'],
  ['schemaVersion', 'number'],
  ['data', 'object'],
  ['metadata', 'object'],
  ['streamId', 'string'],
  ['revision', 'number'],
  ['position', 'string'],
  ['recordedAt', 'string'],
  ['prevHash', 'string'],
  ['hash', 'string'],
];

/** Parses one NDJSON line into an event, or throws LogFormatError naming the line. */
export function parseExportLine(line: string, lineNumber: number): RecordedEvent {
  if (line.trim() === '') throw new LogFormatError(`line ${lineNumber} of the export is empty`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new LogFormatError(`line ${lineNumber} of the export is not valid JSON (${(error as Error).message}): the file was altered or cut`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new LogFormatError(`line ${lineNumber} of the export is not an event object`);
  }
  const e = value as Record<string, unknown>;
  const position = typeof e.position === 'string' ? e.position : null;
  for (const [field, kind] of EVENT_FIELDS) {
    const v = e[field];
    const okType = kind === 'object' ? typeof v === 'object' && v !== null && !Array.isArray(v) : typeof v === kind;
    if (!okType) throw new LogFormatError(`line ${lineNumber} of the export has no valid "${field}" (${kind} expected)`, position);
  }
  if (e.chainHash !== undefined && typeof e.chainHash !== 'string') {
    throw new LogFormatError(`line ${lineNumber} of the export has an invalid "chainHash"`, position);
  }
  return e as unknown as RecordedEvent;
}

/**
 * The events of an NDJSON export, line by line; `sha` receives every byte of the file as read
 * (so the file is read once for both the events and its SHA-256). A line longer than
 * `maxLineBytes` ends the reading with ExportLineTooLongError (not a finding: a refusal).
 */
export async function* readExport(file: string, sha?: ReturnType<typeof createHash>, maxLineBytes = exportLineLimits.maxBytes): AsyncGenerator<RecordedEvent> {
  const input = createReadStream(file);
  const tap = new PassThrough();
  input.on('error', (error) => tap.destroy(error));
  input.on('data', (chunk) => sha?.update(chunk as Buffer));
  input.pipe(tap);
  let n = 0;
  try {
    // At most exportLineLimits.maxBytes a line: a longer one is refused as it is read (export-lines.ts).
    for await (const line of boundedLines(tap, maxLineBytes)) {
      n++;
      yield parseExportLine(line, n);
    }
  } finally {
    input.destroy();
    tap.destroy();
  }
}

export function readManifest(path: string): ExportManifest {
  const text = readFileSync(path, 'utf8');
  const manifest = JSON.parse(text) as ExportManifest;
  if (!READABLE_FORMATS.includes(manifest?.format)) {
    throw new Error(`${path} is not a ${READABLE_FORMATS.join(' or ')} manifest (format ${JSON.stringify(manifest?.format)})`);
  }
  return manifest;
}

// ------------------------------------------------------------------------------------ anchors

export interface AnchoredReport extends AnchoredIntegrityReport {
  /** With a blob store given: how many evidence files the log cites (each read and hashed once the events verify). */
  evidenceFilesChecked?: number;
  /** Those missing from the blob store or no longer hashing to what the log cites (at most 100 listed). */
  evidenceFilesDamaged?: string[];
}

/** Verifies a store, and that it still contains `anchor` when one is given. ok requires both. */
export async function verifyStoreAgainst(
  store: EventStore,
  anchor: LogAnchor | null,
  options: { pageSize?: number; onProgress?: ProgressCallback; trusted?: TrustedKeys; evidence?: () => Promise<EvidenceBlobStore> } = {},
): Promise<AnchoredReport> {
  const head = await store.headPosition();
  const total = estimatedCount(head);
  const cited = options.evidence ? new CitedEvidence() : null;
  const { chain: report, anchored } = await verifyAnchored(store, anchor, {
    pageSize: options.pageSize,
    upTo: head,
    trusted: options.trusted,
    onEvent: (event, verifier) => {
      cited?.observe(event);
      options.onProgress?.(verifier.eventsChecked, total);
    },
  });
  if (!cited || !report.ok) return anchored;
  // The files the (verified) log cites, read back from the blob store: one replaced or lost there
  // was found only when someone downloaded it (insider probe p14, L2).
  // The blob store is opened only for a log that cites files (opening a folder store creates it).
  if (!cited.all.length) return { ...anchored, evidenceFilesChecked: 0, evidenceFilesDamaged: [] };
  const blobs = await options.evidence!();
  const damaged = await damagedEvidenceFiles(cited.all, blobs);
  const evidence = { evidenceFilesChecked: cited.all.length, evidenceFilesDamaged: damaged.slice(0, 100) };
  if (!damaged.length || !anchored.ok) return { ...anchored, ...evidence };
  const reason = `${damaged.length} evidence file(s) cited by the log are missing or altered in ${blobs.description}, first ${damaged[0]}`;
  return { ...anchored, ...evidence, ok: false, reason };
}

// ------------------------------------------------------------------------------------ offline verification

export interface ExportVerdict extends IntegrityReport {
  file: string;
  manifestFile: string;
  /** Whether the manifest was read and compared (false when it is missing or unreadable). */
  manifestChecked: boolean;
  /** SHA-256 of the NDJSON file as read. */
  sha256: string;
  /** How many evidence files the log cites (each checked in FILE.evidence/ once the events verify). */
  evidenceFilesChecked?: number;
  /**
   * The keys the signed heads were checked with: the verifier's own (`trusted` given) or the ones
   * the export's manifest carries, which only show that the export is consistent with itself
   * (anyone can re-sign a rewritten log and put their key there); `kids` signed them. Null: the
   * export carries no signed heads (format 1, or its signatures file could not be read).
   */
  keys: { source: 'verifier' | 'export'; kids: string[] } | null;
}

/**
 * Verifies an export offline: the same chain checks as verifyIntegrity over the file's events,
 * then the manifest (event count, first and head positions, head chain hash, every stream head,
 * the file's SHA-256), which is what catches an export cut at the end.
 */
export async function verifyExport(
  file: string,
  options: { manifestFile?: string; onProgress?: ProgressCallback; trusted?: TrustedKeys; requireSigned?: boolean } = {},
): Promise<ExportVerdict> {
  const manifestFile = options.manifestFile ?? manifestPathFor(file);
  let manifest: ExportManifest | null = null;
  let manifestProblem: string | null = null;
  if (!existsSync(manifestFile)) {
    manifestProblem = `manifest ${manifestFile} not found: the chain alone cannot show that no events were removed from the end`;
  } else {
    try {
      manifest = readManifest(manifestFile);
    } catch (error) {
      manifestProblem = `manifest ${manifestFile} is unreadable: ${(error as Error).message}`;
    }
  }
  const total = manifest?.eventCount ?? 0;
  // Signed heads (format 2): checked with the keys the auditor trusts, by default the manifest's.
  let signatures: HeadSignature[] | undefined;
  let trusted: TrustedKeys | undefined;
  if (manifest?.signatures) {
    const signaturesFile = companionPath(file, signaturesPathFor(file), manifest.signatures.file);
    const text = existsSync(signaturesFile) ? readFileSync(signaturesFile, 'utf8') : null;
    if (text === null) manifestProblem = `signatures file ${signaturesFile} not found: the export's signed heads cannot be checked`;
    else if (createHash('sha256').update(text).digest('hex') !== manifest.signatures.sha256) manifestProblem = `signatures file ${signaturesFile} differs from its manifest entry: it was altered`;
    else {
      signatures = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as HeadSignature);
      trusted = options.trusted ?? TrustedKeys.fromPems((manifest.publicKeys ?? []).map((k) => k.publicKeyPem));
    }
  }
  const sha = createHash('sha256');
  const check = manifest ? new AnchorCheck(manifest) : null;
  let firstPosition: string | null = null;
  const cited = new CitedEvidence();
  const { report } = await verifyEvents(readExport(file, sha), {
    requireChain: manifest ? manifest.headChainHash !== null : false,
    // An import requires every event signed by a key it trusts, even when the export carries no signatures.
    ...(options.requireSigned ? { requireSigned: true, trusted: options.trusted, signatures: signatures ?? [] } : { trusted: signatures ? trusted : undefined, signatures }),
    onEvent: (event, verifier) => {
      firstPosition ??= event.position;
      check?.observe(event);
      cited.observe(event);
      options.onProgress?.(verifier.eventsChecked, total);
    },
  });
  const sha256 = sha.digest('hex');
  const keys = signatures || options.requireSigned ? { source: options.trusted ? ('verifier' as const) : ('export' as const), kids: [...new Set((signatures ?? []).map((s) => s.kid))] } : null;
  const verdict: ExportVerdict = { ...report, file, manifestFile, manifestChecked: false, sha256, keys };
  // Signed heads that could not be read leave events "covered by no signed head": the cause comes first (new-user probe, 1).
  if (!report.ok) return manifest?.signatures && !signatures && manifestProblem ? { ...verdict, reason: `${manifestProblem}; so ${report.reason}` } : verdict;
  if (!manifest || manifestProblem) return { ...verdict, ok: false, reason: manifestProblem };

  const manifestStreams = Object.keys(manifest.streamHeads ?? {}).length;
  const problem =
    check!.finish(report) ??
    (report.eventsChecked !== manifest.eventCount
      ? `the export holds ${report.eventsChecked} events ending at position ${report.headPosition ?? '(none)'} but its manifest lists ${manifest.eventCount} ending at ${manifest.headPosition ?? '(none)'}: events were removed from or added to the export`
      : null) ??
    (report.headPosition !== manifest.headPosition || report.headChainHash !== manifest.headChainHash
      ? `the export ends at position ${report.headPosition} (chain hash ${report.headChainHash}) but its manifest recorded ${manifest.headPosition} (chain hash ${manifest.headChainHash}): events were added after the export`
      : null) ??
    (firstPosition !== manifest.firstPosition
      ? `the export starts at position ${firstPosition} but its manifest recorded ${manifest.firstPosition}: the beginning of the log was changed`
      : null) ??
    (report.streams !== manifestStreams
      ? `the export holds ${report.streams} streams but its manifest lists ${manifestStreams}: a stream was added or removed`
      : null) ??
    (sha256 !== manifest.ndjsonSha256
      ? `the file's SHA-256 ${sha256} differs from the manifest's ${manifest.ndjsonSha256} although every event verifies: a field no hash covers (recordedAt) or the file's formatting was changed after export`
      : null) ??
    (await verifyEvidenceFiles(file, manifest.evidenceFiles, cited.all));
  return { ...verdict, manifestChecked: true, ok: problem === null, reason: problem, evidenceFilesChecked: cited.all.length };
}
