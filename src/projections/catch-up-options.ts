/** How a catch-up reads and commits: the ProjectionRunner's options (projection-runner.ts). */

/**
 * How a catch-up (a start behind the log, a rebuild) reads and commits. Pages are read one at a
 * time and applied in slices of at most `sliceMs` of the event loop; while pages come full (more
 * is waiting), their transaction stays open and commits every `commitEvery` events or `commitAfterMs` after it
 * began, whichever comes first, and as soon as a page comes short or none comes. Each commit
 * writes every read-model page its events dirtied, and in a register whose risks are analysed in
 * turn a thousand events dirty most of it (bench/rebuild.bench.ts, BENCH_LANES=1000): a rebuild
 * of such a log took 6.0 s committing every page of 1,000 and 4.2 s committing every 10,000.
 * Between two pages or slices queries see the read models as of the last event applied (on this
 * connection; with `writeBack: 'piece'`) and waiters wait for the commit; a failure rolls back to the last commit and the runner follows
 * the log again from there.
 */
export interface CatchUpOptions {
  /** Events per page (default 1,000). */
  pageSize?: number;
  /** Events applied before a catch-up's transaction commits (default 10,000). */
  commitEvery?: number;
  /** Milliseconds after which it commits anyway (default 250): read-your-writes waits for commits. */
  commitAfterMs?: number;
  /**
   * How long a full page's span waits for the next page before it commits anyway (default 10 ms):
   * caught up at a page's boundary, nothing else would commit it. Tests that count pages per
   * commit raise it, as a loaded machine can take longer than that between two pages.
   */
  idleCommitMs?: number;
  /**
   * How long a transient storage error is retried before the runner stops with it (default: for
   * ever, as a server should). The CLI gives up: a rebuild on a full disk retried every 5 s until
   * someone killed it, holding DATA_DIR's lock.
   */
  retryForMs?: number;
  /**
   * How long a catch-up's page may hold the event loop before the runner hands it back and
   * applies the rest in the next turn (default 20 ms; Infinity: pages applied whole, as the CLI
   * does with no server on its loop). The pieces share the span's transaction; each moves the
   * checkpoints and, with `writeBack: 'piece'`, flushes the projections' caches
   * (projection-checkpoints.ts).
   */
  sliceMs?: number;
  /**
   * Where the projections write back the states they keep parsed (DocumentCache): 'piece' (default)
   * at the end of every page or slice, so that a query between two sees the read models whole at
   * the last event applied; 'commit' once per commit, for a catch-up nobody queries meanwhile (the
   * CLI's rebuild and verify-read-models), as a replay writes its states back every 10,000 events.
   * On a register whose pages touch most of its 3,000 risks, a page of 5,000 wrote most of them
   * back at its end, and a commit of 10,000 wrote each of them twice.
   */
  writeBack?: 'piece' | 'commit';
}

export const CATCH_UP: Required<CatchUpOptions> = { pageSize: 1_000, commitEvery: 10_000, commitAfterMs: 250, idleCommitMs: 10, retryForMs: Infinity, sliceMs: 20, writeBack: 'piece' };

/**
 * The CLI's rebuild, with no server on its event loop: pages of 5,000 events, applied whole, the
 * states written back once per commit (`writeBack`). When each page wrote back every entity its
 * events touched (DocumentCache), with risks analysed in turn a page touched most of them: a
 * rebuild of such a log took 2.9 s in pages of 5,000 against 4.2 s in the server's pages of 1,000
 * (and 6.0 s committing every page). Not larger: a page's events then live long enough to reach
 * V8's old generation (pages of 10,000 were slower on a log whose pages touch few risks).
 */
export const OFFLINE_CATCH_UP: CatchUpOptions = { pageSize: 5_000, retryForMs: 30_000, sliceMs: Infinity, writeBack: 'commit' };
