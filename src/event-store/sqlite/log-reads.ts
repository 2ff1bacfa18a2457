/**
 * The SQLite store's reads (sqlite-event-store.ts): they stop at the durable position, or wait
 * for what they return to be durable (wal-durability.ts), so that no reader sees an event before
 * its append is acknowledged.
 */
import type Database from 'better-sqlite3';
import { READ_PAGE_BYTES, type AppendResult, type ReadAllOptions, type ReadStreamOptions, type RecordedEvent } from '../event-store.port.js';
import { encodePosition } from '../hash-chain.js';
import { normaliseCount, validateIdempotencyKey, validateStreamId } from '../internal/append-support.js';
import { toRecorded, type EventRow } from '../internal/event-rows.js';
import type { RecentEvents } from '../internal/recent-events.js';
import { SharedPage } from '../internal/shared-page.js';
import type { HeadSignature } from '../signing.js';
import { appendByKey, positionNumber, typedRowsInSpans, type Statements } from './rows.js';
import type { UnsyncedBatch } from './store-types.js';
import type { WalDurability } from './wal-durability.js';

const DEFAULT_READ_COUNT = 1000;

/** What the reads need of the store: made at open, which every read asks for first. */
export interface LogReadsHost {
  /** Opens the database on first use; throws once the store is closed. */
  open(): void;
  db(): Database.Database;
  statements(): Statements;
  durability(): WalDurability<UnsyncedBatch>;
  /** What the store committed last (the followers' pages). */
  recent: RecentEvents;
  /** Reads a range of the log from the file (the store's, so that tests can count them). */
  readRange(from: number, cap: number, maxCount: number, maxBytes?: number): RecordedEvent[];
}

export class LogReads {
  private readonly sharedPage = new SharedPage();

  constructor(private readonly host: LogReadsHost) {}

  async readSignatures(options: { after?: string | null; upTo?: string | null; maxCount?: number } = {}): Promise<HeadSignature[]> {
    this.host.open();
    const after = options.after ? positionNumber(options.after) : 0;
    const upTo = Math.min(options.upTo ? positionNumber(options.upTo) : Number.MAX_SAFE_INTEGER, this.host.durability().readerCap());
    const rows = this.host.statements().readSignatures.all(after, upTo, normaliseCount(options.maxCount, DEFAULT_READ_COUNT, 'maxCount')) as [number, number, string, string, string][];
    return rows.map(([position, first, chainHash, kid, signature]) => ({ firstPosition: encodePosition(first), position: encodePosition(position), chainHash, kid, signature }));
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.host.open();
    validateStreamId(streamId);
    const from = normaliseCount(options.fromRevision, 0, 'fromRevision');
    const to = normaliseCount(options.toRevision, Number.MAX_SAFE_INTEGER, 'toRevision');
    if (from > to) return [];
    const rows = this.host.statements().readStream.all(streamId, from, to) as EventRow[];
    if (rows.length > 0) await this.host.durability().whenDurable(rows[rows.length - 1]![0] as number);
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.host.open();
    const maxCount = normaliseCount(options.maxCount, DEFAULT_READ_COUNT, 'maxCount');
    const maxBytes = normaliseCount(options.maxBytes, READ_PAGE_BYTES, 'maxBytes');
    const from = options.after === undefined || options.after === null ? 0 : positionNumber(options.after);
    const { types } = options;
    if (maxCount === 0 || types === undefined || types === null) return maxCount === 0 ? [] : this.host.readRange(from, this.host.durability().readerCap(), maxCount, maxBytes);
    if (!Array.isArray(types)) throw new TypeError('types must be an array of strings');
    if (types.length === 0) return [];
    return (await typedRowsInSpans(this.host.db(), this.host.statements(), types, { from, cap: this.host.durability().readerCap(), maxCount, maxBytes })).map(toRecorded);
  }

  async awaitCommitted(): Promise<void> {
    this.host.open();
    const head = this.host.statements().head.get() as number | null;
    if (head) await this.host.durability().whenDurable(head);
  }

  /**
   * A subscription's page: the one another follower just read when it covers the range, else the
   * events this instance has just committed when they hold all of it, else read from the file.
   */
  subscriptionPage(after: string | null, maxCount: number): RecordedEvent[] {
    const from = after === null ? 0 : positionNumber(after);
    const cap = this.host.durability().readerCap();
    return this.sharedPage.get(from, cap, maxCount, () => this.host.recent.page(from, cap, maxCount) ?? this.host.readRange(from, cap, maxCount));
  }

  async headPosition(): Promise<string | null> {
    this.host.open();
    const cap = this.host.durability().readerCap();
    const head = this.host.statements().head.get() as number | null;
    if (head === null || head === undefined) return null;
    // Positions are gap-free: the durable head is the cap itself when the log reaches past it.
    const durable = Math.min(head, cap);
    return durable === 0 ? null : encodePosition(durable);
  }

  async streamVersion(streamId: string): Promise<number> {
    this.host.open();
    validateStreamId(streamId);
    const version = this.host.statements().streamVersion.get(streamId) as number | null | undefined;
    return version ?? -1;
  }

  async findIdempotentAppend(idempotencyKey: string): Promise<AppendResult | null> {
    this.host.open();
    validateIdempotencyKey(idempotencyKey);
    if (idempotencyKey === undefined) return null;
    const found = appendByKey(this.host.statements(), idempotencyKey);
    if (!found) return null;
    // Answered from a first append that is not yet on disk: wait until it is.
    await this.host.durability().whenDurable(positionNumber(found.position));
    return found;
  }
}
