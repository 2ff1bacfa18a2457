/**
 * What a command leaves behind when it is interrupted (Ctrl-C, SIGTERM from a scheduler): Node
 * ends on those signals without its 'exit' listeners, so the CLI's locks, a half-built file and a
 * scratch copy of the read models stayed, and the next server start took the lock for an unclean
 * stop of the server and said so in the access log (probe of 2026-12-06, F4, F7). The cleanup runs
 * synchronously, then the process exits as a signal would (128 + its number).
 */
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

/** Runs `cleanup` and exits on an interrupting signal until the returned function is called. */
export function cleanUpOnInterrupt(cleanup: () => void): () => void {
  const handlers = Object.entries(SIGNALS).map(([signal, number]) => {
    const handler = () => {
      try {
        cleanup();
      } finally {
        process.exit(128 + number);
      }
    };
    process.once(signal as NodeJS.Signals, handler);
    return () => process.removeListener(signal as NodeJS.Signals, handler);
  });
  return () => handlers.forEach((off) => off());
}
