// `npm run conformance`: vcpu-lens dump against trace-cmd report on every .dat in
// test/fixtures/real and ../shared/fixtures/peer (and the real ones converted to v6 and
// uncompressed v7), and sched event counts of every text trace there against grep -c.
// Prints one row per file and `conformance: N passed, N failed`; exits 1 on any mismatch.
//   node scripts/conformance.mjs [--only SUBSTRING]   (after npm run build)

import {
  checkDat,
  checkText,
  convertVariants,
  datFiles,
  isBuilt,
  rel,
  removeDir,
  textFiles,
  tmpDir,
  tools,
} from './conformance-lib.mjs';

const only = process.argv.includes('--only')
  ? process.argv[process.argv.indexOf('--only') + 1]
  : '';
if (!isBuilt()) {
  console.error('dist/cli.js is missing: run npm run build first');
  process.exit(2);
}
const tl = tools();
if (tl.length === 0) {
  console.error('no trace-cmd found (/usr/bin/trace-cmd or ~/.cache/trace-cmd-3.3/bin/trace-cmd)');
  process.exit(2);
}
console.log(`oracles: ${tl.map((t) => `${t.name} ${t.bin}`).join(', ')}`);

const rows = [];
const pick = (label) => only === '' || label.includes(only);
for (const f of datFiles()) if (pick(rel(f))) rows.push(checkDat(f, rel(f), tl));
const dir = tmpDir();
try {
  if (tl.some((t) => t.name === '3.1'))
    for (const v of convertVariants(dir))
      if (pick(v.label)) rows.push(checkDat(v.file, v.label, tl));
} finally {
  removeDir(dir);
}
for (const f of textFiles()) if (pick(rel(f))) rows.push(checkText(f));

const w = Math.max(...rows.map((r) => r.file.length), 4);
console.log(`${'file'.padEnd(w)}  oracle   lines  mismatched  first mismatch`);
for (const r of rows)
  console.log(
    `${r.file.padEnd(w)}  ${r.oracle.padEnd(7)} ${String(r.lines).padStart(6)}  ${String(r.mismatched).padStart(10)}  ${(r.first ?? '').slice(0, 300)}`,
  );
const failed = rows.filter((r) => r.mismatched > 0).length;
console.log(`conformance: ${rows.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
