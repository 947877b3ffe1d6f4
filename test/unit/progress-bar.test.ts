// The CLI's progress bar: silent for the first second and off a terminal, redrawn in place at most
// ten times a second, one line for several files, escaped names, cleared before results print.
import { describe, expect, it } from 'vitest';
import { ProgressBar, ProgressSink } from '../../src/cli/progress';

function sink(isTTY: boolean): ProgressSink & { text: string } {
  const s = { isTTY, columns: 200, text: '', write: (x: string) => (s.text += x) };
  return s;
}

describe('progress bar', () => {
  it('draws nothing during the first second, then in place on a terminal, then clears', () => {
    let now = 0;
    const out = sink(true);
    const bar = new ProgressBar('auto', out, () => now);
    const host = bar.track('host.txt');
    host({ bytesDone: 10e6, bytesTotal: 100e6 });
    expect(out.text).toBe('');
    now = 2000;
    host({ bytesDone: 50e6, bytesTotal: 100e6 });
    expect(out.text).toBe(
      '\rreading host.txt [############............]  50%  50/100 MB  25 MB/s\u001b[K',
    );
    now = 2050; // within 100 ms of the last draw: skipped
    host({ bytesDone: 60e6, bytesTotal: 100e6 });
    expect(out.text.split('\r').length).toBe(2);
    bar.done();
    expect(out.text.endsWith('\r\u001b[K')).toBe(true);
  });

  it('sums several files on one line and escapes their names', () => {
    let now = 5000;
    const bar = new ProgressBar('always', sink(false), () => now);
    const a = bar.track('host\u001b]0;x\u0007.txt');
    const b = bar.track('guest.txt');
    now = 7000;
    a({ bytesDone: 30e6, bytesTotal: 40e6 });
    b({ bytesDone: 10e6, bytesTotal: 60e6 });
    expect(bar.line()).toBe(
      'reading host\\u001b]0;x\\u0007.txt + guest.txt [##########..............]  40%  40/100 MB  20 MB/s',
    );
  });

  it('stays silent off a terminal unless asked, and when told never', () => {
    for (const [mode, tty] of [
      ['auto', false],
      ['never', true],
    ] as const) {
      let now = 0;
      const out = sink(tty);
      const bar = new ProgressBar(mode, out, () => now);
      const f = bar.track('x');
      now = 5000;
      f({ bytesDone: 1, bytesTotal: 2 });
      bar.done();
      expect(out.text).toBe('');
    }
  });
});
