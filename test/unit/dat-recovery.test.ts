// A v7 .dat cut before its trailing BUFFER options: the CPU streams are rebuilt from the data
// section. Found by fuzzing: a CPU whose first page started later than the previous CPU's last
// page start was read as part of that CPU (its events under the wrong CPU number).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importTraceDat } from '../../src/core/ingest/trace-dat/index';
import { nodeDecompressors } from '../../src/core/io/decompress';
import type { Trace } from '../../src/core/model/trace';
import { eventsPerCpu, SEED_DATS } from './support/fuzz';

describe('recovering the CPUs of a cut v7 file', () => {
  it.each(['guest-v7-none', 'guest-v7-be-long4'])(
    '%s cut in CPU 2: CPUs 0 and 1 whole and apart, CPU 2 a prefix',
    (name) => {
      const bytes = new Uint8Array(readFileSync(path.join(SEED_DATS, `${name}.dat`)));
      const load = (b: Uint8Array): Trace =>
        importTraceDat(b, { name, decompressors: nodeDecompressors })[0]!;
      const whole = eventsPerCpu(load(bytes));
      // CPU 2 starts at 12288; cut 600 bytes into it.
      const cut = load(bytes.slice(0, 12888));
      expect(cut.diagnostics.some((d) => /BUFFER options missing/.test(d.message))).toBe(true);
      const got = eventsPerCpu(cut);
      expect(got.get(0)).toEqual(whole.get(0));
      expect(got.get(1)).toEqual(whole.get(1));
      const two = got.get(2) ?? [];
      expect(two.length).toBeGreaterThan(0);
      expect(two).toEqual(whole.get(2)!.slice(0, two.length));
      expect(got.has(3)).toBe(false);
    },
  );
});

describe('a corrupt page size in a BUFFER option', () => {
  it('falls back to the file page size instead of reading the same page forever', () => {
    // Found by the 100,000-input fuzz run: a page size of 0 never advanced the page reader.
    const bytes = new Uint8Array(readFileSync(path.join(SEED_DATS, 'guest-v7-zstd-tc.dat')));
    const dv = new DataView(bytes.buffer);
    const good = importTraceDat(bytes, { decompressors: nodeDecompressors })[0]!;
    // The BUFFER option is in the options after the data (CPU 3's ends near 16,730): its page
    // size is the first 4096 there (the CPU offsets that follow it are u64s).
    let at = 16384 + 300;
    while (at + 4 <= bytes.length && dv.getUint32(at, true) !== 4096) at++;
    expect(at + 4).toBeLessThanOrEqual(bytes.length);
    for (const bad of [0, 1, 4095, 0xffffffff]) {
      const b = bytes.slice();
      new DataView(b.buffer).setUint32(at, bad, true);
      const t = importTraceDat(b, { decompressors: nodeDecompressors })[0]!;
      expect(t.events.length).toBe(good.events.length);
      expect(t.diagnostics.map((d) => d.message)).toEqual([
        `instance '' says its page size is ${bad}; the file's 4096 is used`,
      ]);
    }
  });
});
