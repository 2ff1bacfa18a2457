// Per-round figures and paired medians from abtest.mjs logs: node abstats.mjs log...
import { readFileSync } from 'node:fs';
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
for (const file of process.argv.slice(2)) {
  const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('{"base"'));
  if (!line) { console.log(file, 'no result'); continue; }
  const r = JSON.parse(line);
  const names = Object.keys(r);
  console.log(`\n### ${file}\n`);
  console.log(`| round | ${names.map((n) => `${n} req/s | ${n} p99 ms | ${n} main µs/req | ${n} process µs/req`).join(' | ')} |`);
  console.log(`| ---: | ${names.map(() => '---: | ---: | ---: | ---:').join(' | ')} |`);
  r.base.forEach((_, i) => console.log(`| ${i + 1} | ${names.map((n) => { const m = r[n][i]; return `${Math.round(m.rps)} | ${m.p99} | ${Math.round(m.mainUs)} | ${Math.round(m.allUs)}`; }).join(' | ')} |`));
  console.log(`| median | ${names.map((n) => `${Math.round(median(r[n].map((m) => m.rps)))} | ${median(r[n].map((m) => m.p99))} | ${Math.round(median(r[n].map((m) => m.mainUs)))} | ${Math.round(median(r[n].map((m) => m.allUs)))}`).join(' | ')} |`);
  for (const n of names.filter((x) => x !== 'base')) {
    const d = r[n].map((m, i) => m.mainUs - r.base[i].mainUs);
    const dp = r[n].map((m, i) => m.allUs - r.base[i].allUs);
    const rr = r[n].map((m, i) => m.rps / r.base[i].rps);
    console.log(`\n${n} − base, per round: main ${d.map((x) => Math.round(x)).join(', ')} µs → median ${Math.round(median(d))} µs; process ${dp.map((x) => Math.round(x)).join(', ')} → median ${Math.round(median(dp))} µs; req/s ratio median ${median(rr).toFixed(2)}; main base/${n} ${(median(r.base.map((m) => m.mainUs)) / median(r[n].map((m) => m.mainUs))).toFixed(3)}`);
  }
}
// Pooled over every file: thread − base pairs.
{
  const pairs = [];
  for (const file of process.argv.slice(2)) {
    const line = readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith('{"base"'));
    if (!line) continue;
    const r = JSON.parse(line);
    r.base.forEach((b, i) => pairs.push({ b, t: r.thread[i] }));
  }
  const m = (f) => median(pairs.map(f));
  console.log(`\npooled thread − base over ${pairs.length} pairs: main ${Math.round(m((p) => p.t.mainUs - p.b.mainUs))} µs/req (base median ${Math.round(m((p) => p.b.mainUs))}, thread ${Math.round(m((p) => p.t.mainUs))}); process ${Math.round(m((p) => p.t.allUs - p.b.allUs))} µs/req (base ${Math.round(m((p) => p.b.allUs))}, thread ${Math.round(m((p) => p.t.allUs))}); req/s ratio ${m((p) => p.t.rps / p.b.rps).toFixed(2)} (base ${Math.round(m((p) => p.b.rps))}, thread ${Math.round(m((p) => p.t.rps))}); p99 base ${m((p) => p.b.p99)} ms, thread ${m((p) => p.t.p99)} ms, delta ${m((p) => p.t.p99 - p.b.p99)} ms; thread better on main in ${pairs.filter((p) => p.t.mainUs < p.b.mainUs).length}/${pairs.length}, on req/s in ${pairs.filter((p) => p.t.rps > p.b.rps).length}/${pairs.length}`);
}
