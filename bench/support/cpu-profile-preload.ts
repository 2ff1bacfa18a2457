/**
 * Loaded with `node --import` into a server the e2e benchmark profiles: the first SIGUSR2 starts
 * V8's CPU profiler, the second stops it and writes BENCH_CPU_PROF_FILE (a .cpuprofile for Chrome
 * DevTools or speedscope). Unlike `node --cpu-prof`, it profiles one phase of the load only and
 * does not need the process to exit normally.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_CPU_PROF_FILE ?? `server-${process.pid}.cpuprofile`;
const session = new Session();
session.connect();
let running = false;

process.on('SIGUSR2', () => {
  void (async () => {
    if (!running) {
      running = true;
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
      return;
    }
    running = false;
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    process.stdout.write(`${JSON.stringify({ msg: 'cpu profile written', file })}\n`);
  })();
});
