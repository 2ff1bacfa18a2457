// A/B of the main thread's CPU per registerAsset request: HEAD build (/tmp/exp-gc-base) vs this
// build (writer thread on), plus this build with SQLITE_WRITER_THREAD=0 as a control. Servers run
// side by side, loaded one at a time in alternating order. Usage: node abtest.mjs [rounds] [seconds]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
const require = createRequire('/tmp/exp-gc/node_modules/');
const autocannon = require('autocannon');
const { SignJWT } = await import('/tmp/exp-gc/node_modules/jose/dist/webapi/index.js').catch(() => import('jose'));

const ROUNDS = Number(process.argv[2] ?? 6);
const DURATION = Number(process.argv[3] ?? 8);
const CONNECTIONS = 16;
const secret = randomBytes(32).toString('hex');
const variants = [
  { name: 'base', main: '/tmp/exp-gc-base/dist/src/main.js', env: {} },
  { name: 'thread', main: '/tmp/exp-gc/dist/src/main.js', env: {} },
  { name: 'nothread', main: '/tmp/exp-gc/dist/src/main.js', env: { SQLITE_WRITER_THREAD: '0' } },
  { name: 'pipe4', main: '/tmp/exp-gc/dist/src/main.js', env: { SQLITE_WRITER_PIPELINE: '4' } },
].filter((v) => !process.env.ONLY || process.env.ONLY.split(',').includes(v.name));

function start(v) {
  const dir = mkdtempSync(join(tmpdir(), `abtest-${v.name}-`));
  const child = spawn(process.execPath, [v.main], {
    env: { ...process.env, NODE_ENV: 'production', PORT: '0', EVENT_STORE: 'sqlite', SQLITE_PATH: join(dir, 'events.sqlite'), DATA_DIR: dir, JWT_SECRET: secret, RATE_LIMIT_PER_MINUTE: '0', LOG_LEVEL: 'info', ...v.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const onData = (c) => {
      out += c.toString();
      const m = /"url":"(http:\/\/[^"]+\/graphql)"/.exec(out);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.on('data', () => {});
        resolve({ ...v, child, dir, url: m[1].replace('localhost', '127.0.0.1') });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`${v.name} exited ${code}: ${out.slice(-3000)}`)));
  });
}

const cpu = (pid, tid) => {
  const stat = readFileSync(tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
/** CPU ms of each thread of the process, by name. */
const threads = (pid) => {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out[`${name}#${tid}`] = cpu(pid, tid);
    } catch {}
  }
  return out;
};

const token = (sub, roles, department) =>
  new SignJWT({ name: sub, roles, department }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('4h').sign(new TextEncoder().encode(secret));
const REGISTER = 'mutation($input: RegisterAssetInput!) { registerAsset(input: $input) { id version value status } }';

async function load(server, bearer, seq, seconds, measure = true) {
  const pid = server.child.pid;
  const before = measure ? { all: cpu(pid), main: cpu(pid, pid), th: threads(pid) } : null;
  let bad = 0;
  const r = await autocannon({
    url: server.url, connections: CONNECTIONS, duration: seconds,
    requests: [{ method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
      setupRequest: (req) => ({ ...req, body: JSON.stringify({ query: REGISTER, variables: { input: { name: `Hot wallet signer ${seq.n++}`, category: 'SYSTEM', department: 'ops', managerId: 'alice', confidentiality: 3, integrity: 3, availability: 2 } } }) }),
      onResponse: (status, body) => { if (status !== 200 || body.includes('"errors"')) bad++; } }],
  });
  if (!measure) return null;
  const n = r.requests.total;
  const th = threads(pid);
  const perThread = Object.fromEntries(Object.entries(th).map(([k, v]) => [k, (v - (before.th[k] ?? 0)) * 1000 / n]).filter(([, v]) => v > 1).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => [k, +v.toFixed(0)]));
  return { rps: r.requests.average, p99: r.latency.p99, requests: n, errors: bad + r.errors + r.non2xx, mainUs: ((cpu(pid, pid) - before.main) * 1000) / n, allUs: ((cpu(pid) - before.all) * 1000) / n, perThread };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const servers = [];
try {
  for (const v of variants) servers.push(await start(v));
  const bearer = await token('alice', ['ASSET_MANAGER'], 'ops');
  const seq = { n: 0 };
  for (const s of servers) await load(s, bearer, seq, 3, false);
  const results = Object.fromEntries(servers.map((s) => [s.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const s of order) {
      const m = await load(s, bearer, seq, DURATION);
      results[s.name].push(m);
      console.log(`round ${round + 1} ${s.name.padEnd(8)} ${Math.round(m.rps)} req/s p99 ${m.p99} ms main ${m.mainUs.toFixed(0)} µs/req process ${m.allUs.toFixed(0)} µs/req errors ${m.errors} threads ${JSON.stringify(m.perThread)}`);
    }
  }
  console.log('\nmedians:');
  for (const [name, ms] of Object.entries(results)) {
    console.log(`${name.padEnd(8)} req/s ${Math.round(median(ms.map((m) => m.rps)))} p99 ${median(ms.map((m) => m.p99))} ms main ${median(ms.map((m) => m.mainUs)).toFixed(0)} µs/req process ${median(ms.map((m) => m.allUs)).toFixed(0)} µs/req`);
  }
  console.log(JSON.stringify(results));
} finally {
  for (const s of servers) { s.child.removeAllListeners('exit'); s.child.kill('SIGTERM'); }
  await new Promise((r) => setTimeout(r, 3000));
  for (const s of servers) rmSync(s.dir, { recursive: true, force: true });
}
