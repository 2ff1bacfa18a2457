/**
 * What a command leaves behind when it is interrupted (Ctrl-C, SIGTERM from a scheduler): Node
 * ends on those signals without its 'exit' listeners, so the CLI's locks, a half-built file and a
 * scratch copy of the read models stayed, and the next server start took the lock for an unclean
 * stop of the server and said so in the access log (probe of 2026-12-06, F4, F7). The cleanup runs
 * (a cleanup that needs the database, an import's schema beside PostgreSQL's store, is given up to
 * ASYNC_CLEANUP_MS), then the process exits as a signal would (128 + its number). A second signal
 * meanwhile ends it at once.
 */
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
export const ASYNC_CLEANUP_MS = 5_000;

/** Runs `cleanup` and exits on an interrupting signal until the returned function is called. */
export function cleanUpOnInterrupt(cleanup: () => void | Promise<void>): () => void {
  const handlers = Object.entries(SIGNALS).map(([signal, number]) => {
    const handler = () => {
      const exit = () => process.exit(128 + number);
      let pending: void | Promise<void>;
      try {
        pending = cleanup();
      } catch {
        exit();
        return;
      }
      if (!(pending instanceof Promise)) {
        exit();
        return;
      }
      const giveUp = setTimeout(exit, ASYNC_CLEANUP_MS);
      void pending.catch(() => undefined).finally(() => {
        clearTimeout(giveUp);
        exit();
      });
    };
    process.once(signal as NodeJS.Signals, handler);
    return () => process.removeListener(signal as NodeJS.Signals, handler);
  });
  return () => handlers.forEach((off) => off());
}
