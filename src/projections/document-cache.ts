/**
 * The states a projection touched during one page of events, kept parsed in memory and written
 * back once at the end of the page (flush), inside the page's transaction. A risk with thousands
 * of analyses is then parsed and serialised once per page instead of once per event.
 */
export class DocumentCache<S> {
  private readonly states = new Map<string, { state: S; isNew: boolean; dirty: boolean }>();

  constructor(
    private readonly load: (id: string) => S | undefined,
    private readonly save: (id: string, state: S, isNew: boolean) => void,
  ) {}

  /** The current state (from this page's cache, else the database), or undefined. */
  get(id: string): S | undefined {
    const hit = this.states.get(id);
    if (hit) return hit.state;
    const loaded = this.load(id);
    if (loaded !== undefined) this.states.set(id, { state: loaded, isNew: false, dirty: false });
    return loaded;
  }

  set(id: string, state: S): void {
    const hit = this.states.get(id);
    if (hit) {
      hit.state = state;
      hit.dirty = true;
    } else this.states.set(id, { state, isNew: true, dirty: true });
  }

  flush(): void {
    for (const [id, entry] of this.states) if (entry.dirty) this.save(id, entry.state, entry.isNew);
    this.states.clear();
  }

  discard(): void {
    this.states.clear();
  }
}
