/**
 * The access log's unwritten entries, bounded, and what the server does while they cannot be
 * written. Entries are queued and written in batches after the answers (access-log.ts); on a full
 * disk every batch failed and was kept for a retry, the queue grew without bound (1,666 entries),
 * the mutations went on being committed and answered, and a SIGKILL then lost their entries with
 * the queue (operations probe 10-c M4). The rule, in one place:
 *
 * - While the log's writes fail (the last batch failed and none was written since) or the queue
 *   holds `maxQueued` entries, every mutation is refused STORE_UNAVAILABLE before it decides
 *   (the command executor's gate: assertWritable): nothing is committed whose entry could then
 *   be lost. Only the mutations already past the gate when the first write failed are at risk,
 *   and a restart after an unclean stop accounts for those (access-log-system-entries.ts).
 * - Reads go on while their entries can be queued; at the cap every operation is refused
 *   STORE_UNAVAILABLE before it runs, reads too (assertAdmits: refusedAtCap in the GraphQL plugin,
 *   over HTTP and graphql-ws, and in the /documents/ and /evidence/ middleware).
 * - At the cap, an entry is not queued (the queue stays bounded: a refusal is an entry too) but
 *   counted, and the count is written as one AccessLogEntriesDropped entry, signed, with the next
 *   batch: the log says how many requests it does not hold one by one. Only the entry of a
 *   mutation that was allowed (a change committed, let through before the gate closed) is queued
 *   past the cap: there are no more of those than mutations in flight.
 * - /health reports the access log degraded (503) meanwhile (health()).
 */
import { StoreUnavailableError } from '../../shared/domain/errors.js';
import type { AccessRecord } from './access-log-chain.js';

/** How many entries an access log holds in memory, unwritten, by default (ACCESS_LOG_MAX_QUEUED). */
export const ACCESS_LOG_MAX_QUEUED = 10_000;

/** The system entry that counts the entries not queued at the cap. */
export const DROPPED_OPERATION = 'AccessLogEntriesDropped';

/** The message a failed batch is logged with (the writer thread's too: the main thread recognises it). */
export const WRITE_FAILED = 'access log write failed; will retry';

/** What /health says of the access log. */
export interface AccessLogHealth {
  /** Writes succeed and the queue is below its cap. */
  ok: boolean;
  /** Entries not yet in the log (queued, or on their way to the writer). */
  queued: number;
  maxQueued: number;
  /** Batches failing since `since`, none written since. */
  writesFailing?: { since: string; attempts: number; lastError: string };
  /** Entries not queued at the cap since the start (each counted in an AccessLogEntriesDropped entry). */
  dropped: number;
}

/** What the backlog reads of its log. */
export interface BacklogSource {
  /** Entries not yet in the log. */
  queued(): number;
  /** Whether a writer elsewhere (the writer thread) is retrying a failed batch now. */
  retrying(): boolean;
}

export class AccessLogBacklog {
  private failure: { since: string; attempts: number; lastError: string } | null = null;
  /** Entries not queued since the last AccessLogEntriesDropped entry was queued. */
  private dropping: { count: number; from: string; to: string } | null = null;
  private droppedTotal = 0;

  constructor(
    private readonly source: BacklogSource,
    readonly maxQueued = ACCESS_LOG_MAX_QUEUED,
  ) {}

  /** Whether record() queues this entry (see the rule above); one that is not is counted. */
  admits(entry: AccessRecord): boolean {
    if (this.source.queued() < this.maxQueued || (entry.operationType === 'mutation' && entry.outcome === 'ALLOWED')) return true;
    this.droppedTotal++;
    this.dropping = this.dropping ? { ...this.dropping, count: this.dropping.count + 1, to: entry.at } : { count: 1, from: entry.at, to: entry.at };
    return false;
  }

  /** The batch to write: these entries, then the count of those dropped since the last one (if any). */
  batch(queued: AccessRecord[]): AccessRecord[] {
    const d = this.dropping;
    if (!d) return queued;
    this.dropping = null;
    return [...queued, droppedRecord(d.count, d.from, d.to)];
  }

  writeFailed(error: unknown): void {
    const lastError = error instanceof Error ? error.message : String(error);
    this.failure = { since: this.failure?.since ?? new Date().toISOString(), attempts: (this.failure?.attempts ?? 0) + 1, lastError };
  }

  /** A batch was written: the log is writable again. */
  written(): void {
    this.failure = null;
  }

  get failing(): boolean {
    return this.failure !== null || this.source.retrying();
  }

  get full(): boolean {
    return this.source.queued() >= this.maxQueued;
  }

  /** The mutations' gate: refused while writes fail or the queue is full. */
  assertWritable(): void {
    if (this.failing) throw new StoreUnavailableError(false, `The access log cannot be written now (${this.failure?.lastError ?? 'its writes are failing'}): no change is accepted until it can record it. Nothing was recorded; retry later`);
    this.assertAdmits();
  }

  /** Every operation's gate: refused while the queue is full. */
  assertAdmits(): void {
    if (this.full) throw new StoreUnavailableError(false, `The access log holds ${this.maxQueued} entries it cannot write yet: no request is served until it can record it. Nothing was done; retry later`);
  }

  health(): AccessLogHealth {
    const failing = this.failure ?? (this.source.retrying() ? { since: new Date().toISOString(), attempts: 1, lastError: 'the writer thread is retrying a failed batch' } : null);
    const queued = this.source.queued();
    return { ok: !failing && queued < this.maxQueued, queued, maxQueued: this.maxQueued, ...(failing ? { writesFailing: failing } : {}), dropped: this.droppedTotal };
  }
}

function droppedRecord(count: number, from: string, to: string): AccessRecord {
  return {
    at: new Date().toISOString(),
    actorId: null,
    actorName: null,
    actorRoles: null,
    operationName: DROPPED_OPERATION,
    operationType: 'system',
    fields: [],
    targetIds: [String(count), from, to],
    outcome: 'ALLOWED',
    errorCode: null,
    correlationId: null,
    // Most were refused at the cap; a few may have been let through just before it filled.
    note: `${count} request${count === 1 ? '' : 's'} from ${from} to ${to} ${count === 1 ? 'is' : 'are'} not recorded one by one: the access log's queue was full (its writes failing), and requests were refused STORE_UNAVAILABLE meanwhile`,
  };
}
