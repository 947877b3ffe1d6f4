// Writing trace-cmd report text: every real trace-cmd 3.1 fixture, read and written back, is the
// same text byte for byte (the model keeps everything the text says); other formats convert.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { writeTraceCmdText } from '../../src/core/export/trace-cmd-text';
import { importFtraceText } from '../../src/core/ingest/ftrace-text';
import { importText } from '../../src/core/ingest/index';
import { dumpEvents } from './support/dump';
import { REAL, realScenarios } from './support/fixtures';

const FILES = realScenarios()
  .filter((d) => existsSync(path.join(REAL, d, 'host.dat'))) // the trace-cmd scenarios
  .flatMap((d) => [`${d}/host.txt.gz`, `${d}/guest.txt.gz`]);

function write(text: string): string {
  const t = importFtraceText(text, { name: 'x' })[0]!;
  let out = '';
  writeTraceCmdText(t, (s) => (out += s));
  return out;
}

describe('round trip of real trace-cmd report text', () => {
  it.each(FILES)('%s comes back byte for byte', (f) => {
    const text = gunzipSync(readFileSync(path.join(REAL, f))).toString('utf8');
    expect(write(text) === text).toBe(true);
  });
});

describe('conversion', () => {
  it('tracefs text becomes trace-cmd text that reads back to the same events', () => {
    const raw = readFileSync(
      path.resolve(__dirname, '../fixtures/formats/tracefs-raw-host.txt'),
      'utf8',
    );
    const a = importText(raw)![0]!;
    let out = '';
    writeTraceCmdText(a, (s) => (out += s));
    expect(out).toMatch(/^cpus=2\n/);
    expect(out).toMatch(/ sched_switch: {9}python3:3269 \[120\] D ==> cpuhog:3442 \[120\]/);
    const b = importFtraceText(out, { name: 'x' })[0]!;
    // Same events, except the latency column trace-cmd 3.1 does not print.
    expect(dumpEvents(b)).toEqual(dumpEvents(a).map((l) => l.replace(/ lat=\S* \|/, ' lat= |')));
  });
});

describe('vcpu-lens dump', () => {
  it('prints the bundled guest trace back as the same trace-cmd text', async () => {
    const { main } = await import('../../src/cli/main');
    const file = path.resolve(__dirname, '../fixtures/real/quiet-passive-local/guest.txt.gz');
    let text = '';
    const code = await main(
      ['dump', file],
      () => undefined,
      (s) => (text += s),
    );
    expect(code).toBe(0);
    expect(text === gunzipSync(readFileSync(file)).toString('utf8')).toBe(true);
  });
});
