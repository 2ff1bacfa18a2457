// Another process holding a SQLite file's write lock, as an operator's `sqlite3` session or a
// backup tool can: `node sqlite-lock-holder.cjs <path>` takes BEGIN EXCLUSIVE, prints "locked",
// and holds it until a line arrives on stdin (or stdin closes); then it rolls back, prints
// "released" and exits. Used through sqlite-lock.ts.
const Database = require('better-sqlite3');

const db = new Database(process.argv[2], { fileMustExist: true });
db.exec('BEGIN EXCLUSIVE');
process.stdout.write('locked\n');
let done = false;
const release = () => {
  if (done) return;
  done = true;
  db.exec('ROLLBACK');
  db.close();
  process.stdout.write('released\n');
  process.exit(0);
};
process.stdin.on('data', release);
process.stdin.on('end', release);
