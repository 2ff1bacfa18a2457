import { InMemoryEventStore } from '../../src/event-store/memory/in-memory-event-store.js';
import type { AppendOptions, MultiAppendOptions, NewEvent, StreamAppend } from '../../src/event-store/event-store.port.js';

/** A store that lets another writer append once, right before the executor's next append. */
export class RacingStore extends InMemoryEventStore {
  private before?: () => Promise<void>;
  raceOnce(write: () => Promise<void>): void {
    this.before = write;
  }
  override async append(streamId: string, events: NewEvent[], options: AppendOptions) {
    await this.race();
    return super.append(streamId, events, options);
  }
  override async appendMultiple(parts: StreamAppend[], options?: MultiAppendOptions) {
    await this.race();
    return super.appendMultiple(parts, options);
  }
  private async race(): Promise<void> {
    const write = this.before;
    this.before = undefined;
    if (write) await write();
  }
}
