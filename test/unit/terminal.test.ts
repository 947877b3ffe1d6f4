// Trace-derived text must not reach a terminal as control sequences: a comm is whatever a process
// wrote into it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main';
import { safeText } from '../../src/cli/terminal';

describe('safeText', () => {
  it.each([
    ['\u001b]0;owned\u0007', '\\u001b]0;owned\\u0007'],
    ['a\u202eb', 'a\\u202eb'],
    ['tab\there', 'tab\\u0009here'],
    ['\u009b31m', '\\u009b31m'],
    ['CPU 0/TCG', 'CPU 0/TCG'],
    ['ümlaut-名前', 'ümlaut-名前'],
  ])('%j -> %j', (input, out) => {
    expect(safeText(input)).toBe(out);
  });
});

describe('CLI output of a hostile comm', () => {
  it('prints escapes, never the raw control characters', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vl-term-'));
    const file = path.join(dir, 'evil.txt');
    const comm = 'x\u001b[2Jy';
    writeFileSync(
      file,
      'cpus=1\n' +
        `${`${comm}-42`.padStart(16)}  [000]   100.000001: sched_switch:         ${comm}:42 [120] S ==> swapper/0:0 [120]\n`,
    );
    const out: string[] = [];
    const code = await main(['tasks', file], (s) => out.push(s));
    expect(code).toBe(0);
    const text = out.join('\n');
    expect(text).toContain('x\\u001b[2Jy');
    expect(text).not.toContain('\u001b');
  });
});
