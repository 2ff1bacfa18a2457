/**
 * Rules a client's command passes on the log itself, in each of its attempts, beside its decision:
 * the stream an admission judges is read in the attempt and appended with the command as a bare
 * version check. A change to that stream committed between the read and the append (a token
 * revoked) makes the append conflict, and the command is decided again on it: no write admitted
 * on what the stream said before lands after the change in the log (race probe of 2026-12-07, F3:
 * a request in flight while its token was revoked committed up to ~40 ms after the revocation,
 * judged by the in-memory list alone). The platform builds the registry and knows no feature: a
 * feature adds its admission at start (the identity module: token revocations).
 */
import type { Evolver } from './aggregate-reader.js';
import type { AttemptReader, CommandContext } from './command-types.js';

export interface CommandAdmission<S = unknown> {
  readonly streamId: string;
  readonly decider: Evolver<S>;
  /**
   * What this process already holds of the stream (its live feed), standing for a first attempt's
   * read: nothing to read when it is current; behind, the append conflicts and the next attempt reads.
   */
  known?(): { state: S; version: number } | undefined;
  /** Throws the refusal (a DomainError) when the command may not be written on `state`. */
  admit(ctx: CommandContext, state: S): void;
}

/** A first attempt's reads, seeded with what an admission knows (the executor's map of streams read). */
export type AttemptReads = Map<string, { state: unknown; version: number }>;

export class CommandAdmissions {
  private readonly added: CommandAdmission<any>[] = [];

  add<S>(admission: CommandAdmission<S>): void {
    this.added.push(admission);
  }

  /**
   * Judges a client's command (one that carries the token it came with: `ctx.credential`), reading
   * each admission's stream through the attempt's `reader` (so it is appended at that version).
   * `firstReads`: a first attempt's map of streams read, seeded with what an admission knows.
   */
  async admit(ctx: CommandContext, reader: AttemptReader, firstReads?: AttemptReads): Promise<void> {
    if (!ctx.credential) return;
    for (const admission of this.added) {
      const known = firstReads && !firstReads.has(admission.streamId) ? admission.known?.() : undefined;
      if (known) firstReads!.set(admission.streamId, known);
      admission.admit(ctx, await reader.state(admission.streamId, admission.decider));
    }
  }
}
