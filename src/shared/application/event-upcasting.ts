import type { RecordedEvent } from '../../event-store/event-store.port.js';
import { SATISFIED_COMMAND_EVENTS } from './satisfied-command.js';

/** Turns data stored under an older schema version into the current shape (events are never edited). */
export type EventUpcaster = (type: string, schemaVersion: number, data: Record<string, unknown>) => Record<string, unknown>;

export interface EventFamily {
  /** Current schema version per event type. */
  schemaVersions: Record<string, number>;
  upcast: EventUpcaster;
}

/**
 * One registry for every event type of every context. Readers (aggregate loading, projections,
 * asOf folds) see events in their current shape; the stored bytes and their hashes stay as they
 * were written.
 */
export class EventUpcasters {
  private readonly byType = new Map<string, EventFamily>();

  constructor(families: EventFamily[]) {
    // The acknowledgement of a keyed command found satisfied is the executor's, every build's.
    for (const family of [SATISFIED_COMMAND_EVENTS, ...families]) {
      for (const type of Object.keys(family.schemaVersions)) {
        // One home per event type: two modules declaring the same name would read each other's events.
        if (this.byType.has(type)) throw new Error(`Event type ${type} is declared by two event families`);
        this.byType.set(type, family);
      }
    }
  }

  /** Whether `type` is an event type some module declares (every type this build appends or reads). */
  knows(type: string): boolean {
    return this.byType.has(type);
  }

  /** Every declared event type. */
  get types(): string[] {
    return [...this.byType.keys()];
  }

  schemaVersionOf(type: string): number {
    const version = this.byType.get(type)?.schemaVersions[type];
    if (version === undefined) throw new Error(`Unknown event type ${type}: its module must contribute its event family (see src/features.ts)`);
    return version;
  }

  upcast = (event: RecordedEvent): RecordedEvent => {
    const family = this.byType.get(event.type);
    if (!family) return event;
    const current = family.schemaVersions[event.type]!;
    if (event.schemaVersion === current) return event;
    return { ...event, data: family.upcast(event.type, event.schemaVersion, event.data) };
  };
}
