import { Command } from '@nestjs/cqrs';
import type { DomainActor } from '../domain/decider.js';
import { BadInputError } from '../domain/errors.js';
import type { Clock } from './clock.js';
import type { CommandContext } from './command-executor.js';

/** Who sent a request, the id that ties together everything it causes, and the answer it awaits. */
export interface RequestMeta {
  actor: DomainActor;
  correlationId: string;
  /**
   * The server's id of the answer that says what the request's commands left unconfirmed
   * (unconfirmed-writes.ts); none where no answer says it (a REST upload).
   */
  answerId?: string;
}

/** What every command input may carry (contract): an idempotency key and the version last read. */
export interface Retryable {
  commandId?: string | null;
  expectedVersion?: number | null;
}

const COMMAND_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The command context for one client command: time from the clock, causation from the commandId. */
export function commandContext(meta: RequestMeta, clock: Clock, commandId?: string | null): CommandContext {
  if (commandId !== undefined && commandId !== null && !COMMAND_ID.test(commandId)) {
    throw new BadInputError({ commandId: 'must be 1 to 128 characters of letters, digits, ".", "_", ":" or "-"' });
  }
  return {
    actor: meta.actor,
    at: clock.now().toISOString(),
    correlationId: meta.correlationId,
    causationId: commandId ?? meta.correlationId,
    commandId: commandId ?? undefined,
    ...(meta.answerId ? { answerId: meta.answerId } : {}),
  };
}

/**
 * A client's command: the mutation's input and who sent it. Each mutation has its own subclass
 * and its own handler, so the path of a mutation reads from its resolver to its decider.
 */
export abstract class ClientCommand<I, R> extends Command<R> {
  constructor(
    readonly input: I,
    readonly meta: RequestMeta,
  ) {
    super();
  }
}
