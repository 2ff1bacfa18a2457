/**
 * Restoring an export (`npm run cli -- import`): into an empty store, every event at its original
 * position with its original hash, after the export verifies with keys this installation trusts.
 */
import { ExpectedVersion, type EventStore, type NewEvent, type RecordedEvent } from '../../event-store/event-store.port.js';
import { storeWritesChain, verifyStore, type IntegrityReport } from '../../event-store/integrity-verifier.js';
import type { TrustedKeys } from '../../event-store/signing.js';
import { readExport, readManifest, verifyExport, type ProgressCallback } from './evidence-export.js';
import { idempotencyKeyOf } from '../../shared/application/command-key.js';


export class ImportRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRefusedError';
  }
}

export interface ImportResult {
  file: string;
  eventsImported: number;
  appends: number;
  /** Every event's hash in the store equals the file's. */
  hashesIdentical: boolean;
  /** Positions in the store equal the file's (true for SQLite -> SQLite; not guaranteed by the port). */
  positionsPreserved: boolean;
  /** The store's head chain hash equals the manifest's (follows from identical hashes and positions). */
  headChainHashIdentical: boolean;
  /** Every event kept its original commit instant, so asOf by instant answers as on the original log. */
  recordedAtPreserved: boolean;
  /** The store verified after the import. */
  report: IntegrityReport;
  firstMismatch: string | null;
}

interface PendingGroup {
  streamId: string;
  key: string | undefined;
  events: RecordedEvent[];
}

/** The last key an imported append carried, with its commit instant. */
type KeyedAppend = { key: string; recordedAt: string };

/**
 * The idempotency key an event's original append carried: its command's (actor id + commandId),
 * except on the other parts of a command that wrote several streams at once (registerAsset: the
 * asset and its name's reservation), whose key was recorded against the first part only.
 */
function appendKey(event: RecordedEvent, group: PendingGroup | null, keyed: KeyedAppend | null): string | undefined {
  const key = event.metadata?.commandId ? idempotencyKeyOf(String(event.metadata.actor?.id), event.metadata.commandId) : undefined;
  const inFirstPart = group !== null && group.streamId === event.streamId && group.key === key;
  return key !== undefined && keyed?.key === key && keyed.recordedAt === event.recordedAt && !inFirstPart ? undefined : key;
}

/** An import that stopped part of the way: what the target holds is a prefix of the export. */
export class ImportStoppedError extends Error {
  constructor(
    readonly imported: number,
    readonly reason: string,
    cause: unknown,
  ) {
    super(`import stopped after ${imported} events: ${reason}; discard the target store and import again into an empty one`, { cause });
    this.name = 'ImportStoppedError';
  }
}

/**
 * Imports an export into an EMPTY store, reproducing every hash: each event goes to its stream
 * with its original event id, type, schema version, data and metadata, at the expected version
 * revision - 1. Consecutive events of one stream from one command are appended together, under the
 * command's idempotency key (actor id + commandId), which also restores retry protection.
 * The export is verified first (chain and manifest) and refused if broken.
 */
export async function importExport(
  store: EventStore,
  file: string,
  options: {
    manifestFile?: string;
    onProgress?: ProgressCallback;
    onVerifyProgress?: ProgressCallback;
    /** Progress of the check of the target after the import (the whole log read again). */
    onCheckProgress?: ProgressCallback;
    window?: number;
    /** The keys the export's signed heads must verify against. */
    trusted?: TrustedKeys;
    /**
     * The keys the target's signed heads are checked with after the import (this installation's,
     * whose key signs them): without them the check counted no signature (probe p12), and a key
     * the servers would not trust showed only at the next start.
     */
    targetTrusted?: TrustedKeys;
  } = {},
): Promise<ImportResult> {
  const head = await store.headPosition();
  if (head !== null) {
    throw new ImportRefusedError(`the target ${store.adapterName} store is not empty (head position ${head}): import only into an empty store`);
  }
  const verdict = await verifyExport(file, { manifestFile: options.manifestFile, onProgress: options.onVerifyProgress, trusted: options.trusted, requireSigned: true });
  if (!verdict.ok) throw new ImportRefusedError(`the export does not verify: ${verdict.reason}`);
  const manifest = readManifest(verdict.manifestFile);
  const total = manifest.eventCount;

  // Appends issued in one turn of the event loop are committed in issue order by the SQLite and
  // memory adapters (one transaction per batch); other adapters get one append at a time.
  const window = storeWritesChain(store) ? Math.max(1, options.window ?? 500) : 1;
  let inFlight: Promise<void>[] = [];
  let imported = 0;
  let appends = 0;
  let hashesIdentical = true;
  let positionsPreserved = true;
  let recordedAtPreserved = true;
  let firstMismatch: string | null = null;
  let group: PendingGroup | null = null;
  let failure: unknown = null;

  const submit = (g: PendingGroup): void => {
    appends++;
    const events: NewEvent[] = g.events.map((e) => ({
      eventId: e.eventId,
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data,
      metadata: e.metadata,
    }));
    const expected = ExpectedVersion.exact(g.events[0]!.revision - 1);
    inFlight.push(
      store.append(g.streamId, events, { expectedVersion: expected, idempotencyKey: g.key, recordedAt: g.events[0]!.recordedAt, hashVersion: g.events[0]!.hashVersion ?? 1 }).then((result) => {
        if (result.duplicate) throw new Error(`idempotency key ${g.key} appears twice in the export (stream ${g.streamId})`);
        result.events.forEach((stored, i) => {
          const original = g.events[i]!;
          if (stored.hash !== original.hash || stored.revision !== original.revision) {
            hashesIdentical = false;
            firstMismatch ??= `event ${original.eventId} (position ${original.position}) was stored with hash ${stored.hash}, the export has ${original.hash}`;
          }
          if (stored.position !== original.position) positionsPreserved = false;
          if (stored.recordedAt !== original.recordedAt) recordedAtPreserved = false;
        });
        imported += result.events.length;
        options.onProgress?.(imported, total);
      }).catch((error: unknown) => {
        failure ??= error;
      }),
    );
  };
  const drain = async (): Promise<void> => {
    const batch = inFlight;
    inFlight = [];
    await Promise.all(batch);
    if (failure) {
      const error = failure as Error;
      throw new ImportStoppedError(imported, error?.message ?? String(error), error);
    }
  };

  let keyed: KeyedAppend | null = null;
  for await (const event of readExport(file)) {
    const key = appendKey(event, group, keyed);
    // One original append: same stream, same command, same commit instant.
    if (
      group && group.streamId === event.streamId && group.key === key && group.events[0]!.recordedAt === event.recordedAt &&
      (group.events[0]!.hashVersion ?? 1) === (event.hashVersion ?? 1) && group.events.length < 1000
    ) {
      group.events.push(event);
      continue;
    }
    if (group) submit(group);
    group = { streamId: event.streamId, key, events: [event] };
    if (key !== undefined) keyed = { key, recordedAt: event.recordedAt };
    if (inFlight.length >= window) await drain();
  }
  if (group) submit(group);
  await drain();

  const report = await verifyStore(store, { trusted: options.targetTrusted, onProgress: options.onCheckProgress ? (checked) => options.onCheckProgress!(checked, total) : undefined });
  return {
    file,
    eventsImported: imported,
    appends,
    hashesIdentical: hashesIdentical && report.ok,
    positionsPreserved,
    headChainHashIdentical: report.headChainHash === manifest.headChainHash,
    recordedAtPreserved,
    report,
    firstMismatch,
  };
}
