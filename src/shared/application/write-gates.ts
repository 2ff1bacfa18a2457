import type { WriteGate } from './command-executor.js';

/** A gate a feature adds: throws a DomainError when the log may not be written now. */
export interface AddedWriteGate {
  assertWritable(): void;
}

/**
 * The gate of the commands made by requests: the integrity monitor's first (the event log
 * verifies; it may have to wait), then each gate a feature added, checked once that wait is over
 * (the access log can record what is done: access-log-backlog.ts). The platform builds it and
 * knows no feature: the audit module adds its gate at start.
 */
export class WriteGates implements WriteGate {
  private readonly added: AddedWriteGate[] = [];

  constructor(private readonly first: WriteGate) {}

  add(gate: AddedWriteGate): void {
    this.added.push(gate);
  }

  whenWritable(): Promise<void> | void {
    const waiting = this.first.whenWritable();
    if (waiting) return waiting.then(() => this.assertAdded());
    this.assertAdded();
  }

  private assertAdded(): void {
    for (const gate of this.added) gate.assertWritable();
  }
}
