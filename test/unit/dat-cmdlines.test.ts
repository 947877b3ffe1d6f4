// The saved cmdlines of a .dat (`1234 qemu-system-x86` a line) name each event's owner as
// trace-cmd report does; a pid written other than as plain digits is read by Number(), as before.

import { describe, expect, it } from 'vitest';
import { writeTraceDat } from '../../src/core/export/trace-dat-writer';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { dumpEvents } from './support/dump';

const L = (comm: string, pid: number, t: string): string =>
  `${`${comm}-${pid}`.padStart(16)} [000] ${t}: sched_waking:         comm=x pid=9 prio=120 target_cpu=000\n`;

/** A .dat whose saved cmdlines text `from` is replaced by `to` (same length). */
function datWith(from: string, to: string): Uint8Array {
  const t = importFtraceText(
    'cpus=1\n' + L('alpha', 1234, '1.000000') + L('beta', 56, '1.000001'),
  )[0]!;
  const bytes = writeTraceDat(t);
  const at = Buffer.from(bytes).indexOf(from);
  expect(at).toBeGreaterThan(0);
  expect(Buffer.byteLength(to)).toBe(from.length);
  bytes.set(Buffer.from(to), at);
  return bytes;
}

/** The (pid, comm) names a read made, sorted. */
function names(bytes: Uint8Array, countOnly: boolean): string[] {
  const t = importTraceDat(bytes, { decompressors: {}, eventText: false, countOnly })[0]!;
  const out = new Set<string>();
  for (let i = 0; i < t.tasks.size; i++) out.add(`${t.tasks.comm(i)}:${t.tasks.pid(i)}`);
  return [...out].sort();
}

function owners(bytes: Uint8Array): string[] {
  // `ts [cpu] name owner ...`: the owner.
  return dumpEvents(importTraceDat(bytes, { decompressors: {} })[0]!).map((l) => l.split(' ')[3]!);
}

describe('.dat saved cmdlines', () => {
  it('names owners from plain pid lines', () => {
    expect(owners(datWith('56 beta\n', '56 bet2\n'))).toEqual(['alpha:1234', 'bet2:56']);
  });

  it('reads a pid that is not plain digits with Number (0x38 is pid 56) and skips a line starting with a space', () => {
    const o = owners(datWith('1234 alpha\n56 beta\n', ' 1234 alph\n0x38 bt\n'));
    expect(o).toEqual(['<...>:1234', 'bt:56']);
  });

  it.each([
    ['plain pid lines', '56 beta\n', '56 bet2\n', ['alpha:1234', 'bet2:56']],
    [
      'a pid not plain digits',
      '1234 alpha\n56 beta\n',
      ' 1234 alph\n0x38 bt\n',
      ['<...>:1234', 'bt:56'],
    ],
    ['a comm past ASCII', '56 beta\n', '56 b\u00e9t\n', ['alpha:1234', 'b\u00e9t:56']],
  ])('a count-only read (cmdlinesOf) names owners as a full read does: %s', (_, from, to, some) => {
    const bytes = datWith(from, to);
    const counted = names(bytes, true);
    expect(counted).toEqual(names(bytes, false));
    expect(counted).toEqual(expect.arrayContaining(some));
  });
});
