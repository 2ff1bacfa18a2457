import type { ApolloServerPlugin } from '@apollo/server';
import { follower, type FollowerState } from '../health/readiness.js';
import type { RetryState } from '../shared/application/transient-errors.js';
import { takeUnconfirmed, type UnconfirmedWrite } from '../shared/application/unconfirmed-writes.js';

/** Where markStart notes the state on a graphql-ws operation's context. */
const AT_START = Symbol('readModelsAtStart');

/** What the answer needs of the projections (ProjectionRunner): in-memory fields only, no store round trip. */
export interface ReadModelsSource {
  readonly failed: unknown;
  readonly retrying: RetryState | undefined;
  readonly checkpoint: string | null;
  readonly caughtUpOnce: boolean;
  readonly headAtStart: string | null;
}

/**
 * `extensions.readModels` of an answer, over HTTP or graphql-ws, one object for both reasons an
 * answer may lack what the log holds:
 * - `state` (`catching-up`, `retrying` or `stopped`, as /health/ready computes it: `follower`),
 *   `checkpoint` (the position the read models reached) and, while catching up, `head` (the log's
 *   head when the catch-up began): the read models were not following the log while the answer
 *   was read (upgrade probe: answers from 216 of 250 events looked complete and current);
 * - `confirmed: false` and `position`: a mutation's events are committed at `position` but the
 *   read models had not applied them when its answer was read (docs probe: a client went on from
 *   a decideControls answer showing no controls).
 * `message` says what it means and when to read again. Every answer with data is flagged, also
 * those folded from the log (asOf, history, events): their replays read the read models' history
 * tables too, and one rule for every answer is one the client can act on. Not the events of a
 * subscription: they come from the log itself (live-events.ts), not from the read models.
 */
export class ReadModelsAnswers {
  constructor(private readonly source?: ReadModelsSource) {}

  /**
   * Notes on a graphql-ws operation's context, as it is made, how the read models stand (its
   * answer is flagged by extensionOfContext). A property, not a map by identity: the context is
   * copied (with `req`) by @nestjs/apollo after it is made.
   */
  markStart(context: object): void {
    (context as Record<symbol, unknown>)[AT_START] = { behind: this.behind() };
  }

  /** extensionOf for a graphql-ws answer, from its context (undefined when markStart did not mark it). */
  extensionOfContext(context: unknown, hasData: boolean): Record<string, unknown> | undefined {
    const mark = typeof context === 'object' && context !== null ? ((context as Record<symbol, unknown>)[AT_START] as { behind: FollowerState | undefined } | undefined) : undefined;
    if (!mark) return undefined;
    return this.extensionOf((context as { answerId?: unknown }).answerId, hasData, mark.behind);
  }

  /** How the read models stand now, when they do not follow the log (undefined: they do). */
  behind(): FollowerState | undefined {
    if (!this.source) return undefined;
    const f = follower(this.source);
    return f.ok ? undefined : f;
  }

  /**
   * The extension of an answer whose operation began when the read models stood at `atStart`
   * (they may have caught up while it was read), undefined when there is nothing to say.
   */
  extensionOf(answerId: unknown, hasData: boolean, atStart: FollowerState | undefined): Record<string, unknown> | undefined {
    const unconfirmed = typeof answerId === 'string' ? takeUnconfirmed(answerId) : undefined;
    const behind = hasData ? (this.behind() ?? atStart) : undefined;
    if (!unconfirmed && !behind) return undefined;
    return readModelsExtension(unconfirmed, behind, this.source?.headAtStart ?? null);
  }
}

/** The answers over HTTP (Apollo's plugin); graphql-options.ts adds them to graphql-ws's. */
export function readModelsPlugin(answers: ReadModelsAnswers): ApolloServerPlugin {
  return {
    async requestDidStart() {
      // Also when they caught up while it was read: it may have been read before.
      const atStart = answers.behind();
      return {
        async willSendResponse({ response, contextValue }) {
          const answerId = (contextValue as { answerId?: unknown }).answerId;
          const single = response.body.kind === 'single' ? response.body.singleResult : undefined;
          // Taken also from an answer sent otherwise, so that nothing of it is left behind.
          const readModels = answers.extensionOf(answerId, single?.data != null, atStart);
          if (single && readModels) single.extensions = { ...single.extensions, readModels };
        },
      };
    },
  };
}

function readModelsExtension(unconfirmed: UnconfirmedWrite | undefined, behind: FollowerState | undefined, head: string | null): Record<string, unknown> {
  const said: string[] = [];
  if (unconfirmed) said.push(`Recorded at position ${unconfirmed.position}, but the read models had not applied it when this answer was read from them (${unconfirmed.reason}): it may not show the change; read it again once /health is ok`);
  if (behind) said.push(behindMessage(behind, head));
  return {
    ...(unconfirmed ? { confirmed: false, position: unconfirmed.position } : {}),
    ...(behind ? { state: behind.state, checkpoint: behind.checkpoint, ...(behind.state === 'catching-up' && head !== null ? { head } : {}) } : {}),
    message: said.join('. '),
  };
}

function behindMessage(f: FollowerState, head: string | null): string {
  const at = f.checkpoint === null ? 'before the first event' : `at position ${f.checkpoint}`;
  switch (f.state) {
    case 'catching-up':
      return `The read models were catching up with the log (${at}${head !== null ? ` of ${head}` : ''}) when this answer was read: it may lack the newest events; read it again once /health is ok`;
    case 'retrying':
      return `The read models were retrying a storage error${f.retrying ? ` since ${f.retrying.since}` : ''} (${at}) when this answer was read: it may lack events recorded since; read it again once /health is ok (they resume by themselves)`;
    default:
      return `The read models had stopped (${at}) when this answer was read: it lacks every event recorded since, until an operator restarts the server; read it again once /health is ok`;
  }
}
