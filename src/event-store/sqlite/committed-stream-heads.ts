import type { StreamHeadLookup } from '../event-store.port.js';
import type { StreamHead } from '../internal/append-support.js';
import { encodePosition } from '../hash-chain.js';

/** Stream heads kept in memory; they are all dropped when they grow past this. */
const STREAM_HEADS_KEPT = 100_000;

/**
 * The heads of the streams this writer committed (version, last hash, position of the last
 * event), valid while no other connection commits to the file: they spare the writer a SELECT per
 * append, and a reader the read of a stream nothing was appended to since (currentStreamHeads).
 * PRAGMA data_version tells: it changes when another connection commits, never for this
 * connection's own commits. The value seen at this writer's last write transaction is kept here.
 */
export class CommittedStreamHeads {
  private readonly heads = new Map<string, StreamHead>();
  private dataVersion: number;

  constructor(dataVersion: number) {
    this.dataVersion = dataVersion;
  }

  /**
   * At the start of a write transaction, with PRAGMA data_version read inside it: true when no
   * other connection committed since the last one; otherwise the heads are forgotten (false), and
   * the caller reloads what it keeps of the log's head.
   */
  stillOwn(dataVersion: number): boolean {
    if (dataVersion === this.dataVersion) return true;
    this.dataVersion = dataVersion;
    this.heads.clear();
    return false;
  }

  /** For the writer, inside its transaction (after stillOwn). */
  get(streamId: string): StreamHead | undefined {
    return this.heads.get(streamId);
  }

  /** Once COMMIT has returned: the heads of the streams the transaction wrote. */
  committed(streams: ReadonlyMap<string, StreamHead>): void {
    if (this.heads.size + streams.size > STREAM_HEADS_KEPT) this.heads.clear();
    for (const [id, head] of streams) this.heads.set(id, head);
  }

  /**
   * EventStore.currentStreamHeads: a stream's head when this writer committed it and no other
   * connection had committed by the lookup's first answer (`dataVersion` asks SQLite then: one
   * statement, no row read; an analyseRisk looks up its risk, asset and criteria with one ask);
   * undefined otherwise. A foreign commit noticed since by this writer (stillOwn) dropped the
   * heads it made stale; those committed after it are current.
   */
  lookup(dataVersion: () => number, open: () => boolean, soleWriter = false): StreamHeadLookup {
    // A sole writer (SqliteEventStoreOptions.soleWriter) learns of a foreign commit in stillOwn only.
    let unchanged: boolean | undefined = soleWriter || undefined;
    return (streamId) => {
      const head = this.heads.get(streamId);
      if (head?.position === undefined || !open()) return undefined;
      unchanged ??= dataVersion() === this.dataVersion;
      return unchanged ? { revision: head.version, position: encodePosition(head.position) } : undefined;
    };
  }
}
