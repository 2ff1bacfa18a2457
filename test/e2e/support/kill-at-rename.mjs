/**
 * Preloaded into a command (NODE_OPTIONS=--import …) to stop it dead at one step of its file
 * renames, as a SIGKILL or a power cut would: KILL_AT_RENAME=N kills the process just before its
 * N-th fs.renameSync; FAIL_AT_RENAME=N makes the N-th throw an I/O error instead (a disk that
 * fails once); RENAME_TRACE=FILE appends each rename to FILE (to count them).
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const at = Number(process.env.KILL_AT_RENAME ?? 0);
const failAt = Number(process.env.FAIL_AT_RENAME ?? 0);
const trace = process.env.RENAME_TRACE;
const rename = fs.renameSync;
let count = 0;
fs.renameSync = function renameSyncOrDie(from, to) {
  count++;
  if (trace) fs.appendFileSync(trace, `${count} ${from} -> ${to}\n`);
  if (count === at) process.kill(process.pid, 'SIGKILL');
  if (count === failAt) throw Object.assign(new Error(`EIO: i/o error, rename '${from}' -> '${to}'`), { code: 'EIO' });
  return rename.call(this, from, to);
};
syncBuiltinESMExports();
