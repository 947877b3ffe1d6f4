// `vcpu-lens dump F.dat` against `trace-cmd report F.dat`, line for line, on every .dat in
// test/fixtures/real and ../shared/fixtures/peer: the comparison `npm run conformance` prints
// (scripts/conformance-lib.mjs), one test per file. (The trace-cmd convert variants of the real
// files are trace-dat.test.ts's; the script runs them too.) Files trace-cmd 3.1 cannot read use trace-cmd 3.3.3 (3.3's layout
// normalised to 3.1's there). Skipped by name without the tools, the build or the peer folder.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkDat,
  datFiles,
  dump,
  isBuilt,
  PEER,
  REAL,
  rel,
  TC31,
  TC33,
  tools,
  type Tool,
} from '../../scripts/conformance-lib.mjs';
import { missing } from './support/fixtures';

const TOOLS = tools();
const noBuild = isBuilt() ? undefined : ' (skipped: needs npm run build: dist/cli.js)';
const no31 = TOOLS.some((t) => t.name === '3.1')
  ? undefined
  : ` (skipped: needs trace-cmd at ${TC31})`;
const no33 = TOOLS.some((t) => t.name === '3.3')
  ? undefined
  : ` (skipped: needs trace-cmd 3.3.3 at ${TC33}: sh ../shared/tools/trace-cmd-3.3/build.sh)`;
const FILES = datFiles();
/** trace-cmd report and dump of a 300,000-event file, on a shared 2-core machine. */
const SLOW = 300_000;

function expectZero(file: string, label: string): void {
  const row = checkDat(file, label, TOOLS);
  expect(row.first ?? '', `${row.mismatched} of ${row.lines} lines differ`).toBe('');
  expect(row.mismatched).toBe(0);
  expect(row.lines).toBeGreaterThan(1);
}

describe('dump matches trace-cmd report on the real .dat fixtures', () => {
  const why = missing(REAL, 'test/fixtures/real') ?? noBuild ?? no31;
  const real = FILES.filter((f) => f.startsWith(REAL));
  it.skipIf(why)(`finds the 20 real .dat files (10 scenarios, host and guest)${why ?? ''}`, () => {
    expect(real.length).toBe(20);
  });
  for (const f of real)
    it.skipIf(why)(`${rel(f)}${why ?? ''}`, { timeout: SLOW }, () => expectZero(f, rel(f)));
});

describe('dump matches trace-cmd report on the peer .dat files', () => {
  const why = missing(PEER, '../shared/fixtures/peer') ?? noBuild ?? no31 ?? no33;
  const peer = FILES.filter((f) => f.startsWith(PEER));
  it.skipIf(why)(`finds the 9 peer .dat files${why ?? ''}`, () => {
    expect(peer.length).toBe(9);
  });
  for (const f of peer)
    it.skipIf(why)(`${rel(f)}${why ?? ''}`, { timeout: SLOW }, () => expectZero(f, rel(f)));
});

describe('an oracle that does not print the same twice', () => {
  // A stand-in trace-cmd whose first report (of each folder's counter) prints `first` and the
  // later ones `later`, as trace-cmd 3.1.6 sometimes prints a file's timestamps raw.
  const fake = (first: string, later: string): Tool => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vl-oracle-'));
    writeFileSync(path.join(dir, 'first.txt'), first);
    writeFileSync(path.join(dir, 'later.txt'), later);
    const bin = path.join(dir, 'trace-cmd');
    writeFileSync(
      bin,
      `#!/bin/sh\nif [ -e "${dir}/ran" ]; then cat "${dir}/later.txt"; else touch "${dir}/ran"; cat "${dir}/first.txt"; fi\n`,
    );
    chmodSync(bin, 0o755);
    return { name: '3.1', bin };
  };
  const why = missing(REAL, 'test/fixtures/real') ?? noBuild;
  const file = path.join(REAL, 'quiet-passive-local', 'guest.dat');

  it.skipIf(why)(
    `a disagreement it does not repeat is judged against what most of its runs print${why ?? ''}`,
    () => {
      const ours = dump(file).text;
      const row = checkDat(file, 'x', [fake(ours.replace(/\d/g, '0'), ours)]);
      expect(row.mismatched).toBe(0);
      expect(row.oracle).toBe('3.1 (unstable: 1 of 5 runs differ)');
    },
  );

  it.skipIf(why)(`a disagreement it repeats stays one${why ?? ''}`, () => {
    const other = dump(file).text.replace(/\d/g, '0');
    const row = checkDat(file, 'x', [fake(other, other)]);
    expect(row.mismatched).toBeGreaterThan(0);
    expect(row.oracle).toBe('3.1');
  });
});
