// `vcpu-lens analyze --out / --chrome-trace` and `simulate --out`: the files are written, said on
// stderr with their size, and a path that cannot be written is a usage error with a message.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes';
import { captureStderr } from './support/stderr';

process.env['VCPU_LENS_NO_MAIN'] = '1';
const { main } = await import('../../src/cli/main');

const PAIR = path.resolve(__dirname, '../fixtures/real/quiet-passive-local');
const dir = mkdtempSync(path.join(tmpdir(), 'vcpu-lens-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stderr = captureStderr();

describe('report files from the CLI', () => {
  it('analyze --out and --chrome-trace write both and say where and how big', async () => {
    const html = path.join(dir, 'r.html');
    const json = path.join(dir, 't.json');
    const code = await main(
      [
        'analyze',
        path.join(PAIR, 'host.txt.gz'),
        path.join(PAIR, 'guest.txt.gz'),
        '--out',
        html,
        '--chrome-trace',
        json,
      ],
      () => {},
    );
    expect(code).toBe(ExitCode.ok);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!DOCTYPE html>/);
    expect(page).toContain('id="vcpu-lens-model"');
    expect(page).toContain('<div id="vl-root">');
    const trace = JSON.parse(readFileSync(json, 'utf8')) as { traceEvents: unknown[] };
    expect(trace.traceEvents.length).toBeGreaterThan(1000);
    expect(stderr.join('')).toMatch(/wrote .*r\.html \(\d+\.\d\d MB\)/);
    expect(stderr.join('')).toMatch(/wrote .*t\.json \(\d+\.\d\d MB\)/);
  });

  it('a report path that cannot be written is a usage error with a message', async () => {
    const code = await main(
      [
        'analyze',
        path.join(PAIR, 'host.txt.gz'),
        path.join(PAIR, 'guest.txt.gz'),
        '--out',
        path.join(dir, 'no', 'such', 'dir', 'r.html'),
      ],
      () => {},
    );
    expect(code).toBe(ExitCode.usage);
    expect(stderr.join('')).toMatch(/cannot write .*r\.html: ENOENT/);
  });

  it('simulate --out writes the report beside the traces', async () => {
    const out = path.join(dir, 'sim');
    const code = await main(['simulate', '--preset', 'small', '--out', out], () => {});
    expect(code).toBe(ExitCode.ok);
    expect(existsSync(path.join(out, 'report.html'))).toBe(true);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('simulated small');
  });
});
