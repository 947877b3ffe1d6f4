// `vcpu-lens dump F.dat` against `trace-cmd report F.dat`, line for line, on every .dat in
// test/fixtures/real and ../shared/fixtures/peer: the comparison `npm run conformance` prints
// (scripts/conformance-lib.mjs), one test per file. (The trace-cmd convert variants of the real
// files are trace-dat.test.ts's; the script runs them too.) Files trace-cmd 3.1 cannot read use trace-cmd 3.3.3 (3.3's layout
// normalised to 3.1's there). Skipped by name without the tools, the build or the peer folder.
import { describe, expect, it } from 'vitest';
import {
  checkDat,
  datFiles,
  isBuilt,
  PEER,
  REAL,
  rel,
  TC31,
  TC33,
  tools,
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
