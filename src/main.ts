/**
 * The process's entry (`node dist/src/main.js`: npm start, the Docker image, the benches and the
 * end-to-end tests). It answers SIGTERM and SIGINT before anything else loads, then loads the
 * server (server.ts) and hands the signals over to it.
 *
 * Loading the server's modules (Nest, Apollo, the features) takes 0.5-1.5 s, and ES modules are
 * all evaluated before the importing module's first line: when main.ts imported them statically, a
 * stop in that time found no handler and the signal's default action ended the process, exit 143,
 * without a line (operations probe 10-c L4). So this module imports nothing statically, the logger
 * included (pino takes some 35 ms to load): its lines are written by hand, in the logger's shape.
 */

/** Info lines are written unless LOG_LEVEL is warn, error or silent (as the logger decides: shared/logging/json-logger.ts). */
export function infoLogged(): boolean {
  const level = process.env.LOG_LEVEL;
  return level !== 'warn' && level !== 'error' && level !== 'silent';
}

/**
 * A line as the server's logger writes it (pino, shared/logging/json-logger.ts): level, ISO time,
 * component, the fields, msg (test/unit/entry-log-line.spec.ts compares the two).
 */
export function logLine(level: 'info' | 'error', msg: string, fields: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ level, time: new Date().toISOString(), component: 'risk-ledger', ...fields, msg })}\n`;
}

/**
 * A stop before the server's own handlers are installed: nothing is open yet (no lock, file,
 * connection or port), so the process ends at once, exit 0, with the line the server writes for a
 * stop during its start.
 */
function stopBeforeStart(signal: NodeJS.Signals): void {
  if (infoLogged()) process.stdout.write(logLine('info', 'shut down during start-up', { signal }));
  process.exit(0);
}

/** Called by the server once its own handlers are installed (server.ts, main). */
function releaseEntryStop(): void {
  process.off('SIGTERM', stopBeforeStart);
  process.off('SIGINT', stopBeforeStart);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.on('SIGTERM', stopBeforeStart);
  process.on('SIGINT', stopBeforeStart);
  import('./server.js').then(
    ({ runServer }) => runServer(releaseEntryStop),
    (error: unknown) => {
      // The server did not load (a dependency missing, a broken build): a fault to report with its
      // stack, even with LOG_LEVEL=silent, as the server reports a start that failed.
      const { name, message, stack } = error instanceof Error ? error : new Error(String(error));
      process.stderr.write(logLine('error', 'start-up failed', { error: { name, message, stack } }));
      process.exit(1);
    },
  );
}
