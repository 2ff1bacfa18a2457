import { createHash } from 'node:crypto';
import { Command } from '@nestjs/cqrs';
import { canonicalJson } from '../domain/canonical-json.js';
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
   * (unconfirmed-writes.ts), and whose access-log entry names the event they committed last
   * (committed-writes.ts; an upload has one for that alone).
   */
  answerId?: string;
  /** The bearer token it came with (its `iat`): judged again at each command's append (CommandContext.credential). */
  credential?: { issuedAt?: number };
}

/** What every command input may carry (contract): an idempotency key and the version last read. */
export interface Retryable {
  commandId?: string | null;
  expectedVersion?: number | null;
}

const COMMAND_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The command context for one client command: time from the clock, causation from the commandId.
 * `input`: the mutation's input, whose commandId is the idempotency key; with a key, the digest of
 * the rest of it goes beside the key, so that the key used again with another input is refused
 * rather than answered with the first result (README probe, 2026-12-05 M3: `registerAsset` of X2
 * under X1's key answered X1 and registered nothing).
 */
export function commandContext(meta: RequestMeta, clock: Clock, input?: Retryable | null): CommandContext {
  const commandId = input?.commandId;
  if (commandId !== undefined && commandId !== null && !COMMAND_ID.test(commandId)) {
    throw new BadInputError({ commandId: 'must be 1 to 128 characters of letters, digits, ".", "_", ":" or "-"' });
  }
  return {
    actor: meta.actor,
    at: clock.now().toISOString(),
    correlationId: meta.correlationId,
    causationId: commandId ?? meta.correlationId,
    commandId: commandId ?? undefined,
    ...(commandId ? { inputDigest: inputDigest(input!) } : {}),
    ...(meta.answerId ? { answerId: meta.answerId } : {}),
    ...(meta.credential ? { credential: meta.credential } : {}),
  };
}

/**
 * 128 bits of SHA-256 over the canonical JSON of the input without its commandId: equal for a retry
 * sent again. Through JSON first, as the client sent it: a DateTime argument arrives as a Date, which
 * canonical JSON (for plain data) would take for an empty object.
 */
export function inputDigest(input: Retryable): string {
  const { commandId: _key, ...rest } = input as Retryable & Record<string, unknown>;
  return createHash('sha256').update(canonicalJson(JSON.parse(JSON.stringify(rest)))).digest('hex').slice(0, 32);
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
