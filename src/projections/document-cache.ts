/**
 * The states a projection touched during one page of events, kept parsed in memory and written
 * back once at the end of the page (flush), inside the page's transaction. A risk with thousands
 * of analyses is then parsed and serialised once per page instead of once per event.
 *
 * The states of the last pages are kept too (up to `keep`, least recently used dropped), exactly
 * as they were written: a live page is typically one event on a state a recent page wrote (a
 * command on a risk just changed), and reading it back would parse the document it just
 * serialised. They stand for the row only while this cache alone writes its document column:
 * the owning projection discards the cache whenever the rows may change otherwise (reset, a page
 * rolled back).
 */
export class DocumentCache<S> {
  /** `written`: the state as its row holds it, when known (loaded, or written by a recent flush). */
  private readonly states = new Map<string, { state: S; isNew: boolean; dirty: boolean; written: S | undefined }>();
  /** States as the last flushes wrote them (or found them), oldest first. */
  private readonly recent = new Map<string, S>();

  constructor(
    private readonly load: (id: string) => S | undefined,
    /**
     * Writes a state. `written` is the state its row holds, when known (undefined: write it all): a
     * projection whose states keep unchanged parts by reference (the deciders' evolve does) may write
     * only the parts that differ from it.
     */
    private readonly save: (id: string, state: S, isNew: boolean, written: S | undefined) => void,
    /**
     * States kept from the last pages. 4,000 since 2026-12-06: with 1,000, a register of 3,060 risks
     * analysed in turn reloaded and parsed a risk's document for 39,025 of 60,662 events in a
     * rebuild (PostgreSQL live-rebuild profile); with 4,000, the rebuild bench on such a log (3,000
     * risks, BENCH_LANES=3000) read 24,282 against 21,108 events/s (CLI) and 17,772 against 14,588
     * (server settings). A kept state is a parsed document: ~20 KB for a risk of 4.6 KB of JSON.
     */
    private readonly keep = 4_000,
  ) {}

  /** The current state (from this page's cache, else a recent page's, else the database), or undefined. */
  get(id: string): S | undefined {
    const hit = this.states.get(id);
    if (hit) return hit.state;
    const kept = this.recent.get(id);
    if (kept !== undefined) {
      this.recent.delete(id);
      this.states.set(id, { state: kept, isNew: false, dirty: false, written: kept });
      return kept;
    }
    const loaded = this.load(id);
    if (loaded !== undefined) this.states.set(id, { state: loaded, isNew: false, dirty: false, written: loaded });
    return loaded;
  }

  set(id: string, state: S): void {
    const hit = this.states.get(id);
    if (hit) {
      hit.state = state;
      hit.dirty = true;
    } else {
      // A state of a recent page is a row already.
      const written = this.recent.get(id);
      const isRow = this.recent.delete(id);
      this.states.set(id, { state, isNew: !isRow, dirty: true, written });
    }
  }

  flush(): void {
    for (const [id, entry] of this.states) if (entry.dirty) this.save(id, entry.state, entry.isNew, entry.written);
    if (this.keep > 0) {
      for (const [id, entry] of this.states) this.recent.set(id, entry.state);
      for (const id of this.recent.keys()) {
        if (this.recent.size <= this.keep) break;
        this.recent.delete(id);
      }
    }
    this.states.clear();
  }

  /**
   * flush() in parts, for a replay (whose database nobody reads before it ends): writes the
   * touched states until `deadline` (performance.now()), at least one, and says whether all are
   * written, then ending as flush() does. A replay over risks holding megabytes each wrote them
   * for 0.7 s in one go, holding every other request (hostile probe F2).
   */
  flushUntil(deadline: number): boolean {
    let wrote = false;
    for (const [id, entry] of this.states) {
      if (!entry.dirty) continue;
      if (wrote && performance.now() > deadline) return false;
      this.save(id, entry.state, entry.isNew, entry.written);
      Object.assign(entry, { dirty: false, isNew: false, written: entry.state });
      wrote = true;
    }
    this.flush();
    return true;
  }

  /** Forgets every state (this page's and the recent pages'): the rows may have changed otherwise. */
  discard(): void {
    this.states.clear();
    this.recent.clear();
  }
}
