// The `vcpu-lens` command: JSON schema on a real trace, usage errors, unreadable input and the
// documented exit codes (docs/cli.md). `main(argv, out)` returns the exit code; stderr is captured.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes';
import { captureStderr } from './support/stderr';

// Importing main must not run it.
process.env['VCPU_LENS_NO_MAIN'] = '1';
const { main } = await import('../../src/cli/main');

const FIXTURE = path.resolve(__dirname, '../fixtures/real/quiet-active-tsc/guest.txt.gz');

const GOOD = [
  'cpus=2',
  '          <idle>-0     [001]  5034.172647: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=001',
  '          <idle>-0     [001]  5034.172653: sched_wakeup:         rcu_preempt:15 [120] CPU:001',
  '     rcu_preempt-15    [001]  5034.172671: sched_switch:         rcu_preempt:15 [120] W ==> swapper/1:0 [120]',
].join('\n');

const dir = mkdtempSync(path.join(tmpdir(), 'vcpu-lens-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tmpFile(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

const stderr = captureStderr();

/** Runs the CLI; returns the exit code and what it printed to stdout (one string per `out` call). */
async function run(...argv: string[]): Promise<{ code: number; out: string[] }> {
  const out: string[] = [];
  const code = await main(argv, (s) => out.push(s));
  return { code, out };
}

describe('info --json on a real trace', () => {
  it('prints the vcpu-lens.info/1 schema with the trace ground truth', async () => {
    const { code, out } = await run('info', FIXTURE, '--json');
    expect(code).toBe(ExitCode.ok);
    expect(out).toHaveLength(1);
    const info = JSON.parse(out[0]!) as Record<string, unknown> & {
      traces: Record<string, unknown>[];
    };
    expect(info).toMatchObject({
      schema: 'vcpu-lens.info/1',
      file: FIXTURE,
      format: 'ftrace-text',
      compression: 'gzip',
      diagnostics: [],
    });
    expect(info.traces).toHaveLength(1);
    expect(info.traces[0]).toMatchObject({
      name: 'guest.txt.gz',
      format: 'trace-cmd-report',
      clock: { name: 'unknown', unit: 'count', source: 'inferred', resolution: 1 },
      cpus: { count: 4, source: 'header' },
      span: {
        first: '528801667402',
        last: '572191440725',
        duration: 43389773323,
        unit: 'count',
        seconds: null,
      },
      events: {
        total: 1669,
        byName: {
          sched_switch: 768,
          sched_waking: 390,
          sched_wakeup: 390,
          print: 86,
          sched_migrate_task: 13,
          sched_process_exit: 8,
          sched_process_fork: 7,
          sched_wakeup_new: 7,
        },
      },
      lostEvents: 0,
      linesRead: 1669,
      diagnostics: { errors: 0, warnings: 0, infos: 0, items: [] },
    });
    expect(stderr).toEqual([]);
  });

  it('takes the clock name from --clock', async () => {
    const { code, out } = await run('info', FIXTURE, '--json', '--clock', 'x86-tsc');
    expect(code).toBe(ExitCode.ok);
    const info = JSON.parse(out[0]!) as { traces: { clock: unknown }[] };
    expect(info.traces[0]!.clock).toEqual({
      name: 'x86-tsc',
      unit: 'count',
      source: 'user',
      resolution: 1,
    });
  });

  it('prints text without --json', async () => {
    const { code, out } = await run('info', FIXTURE);
    expect(code).toBe(ExitCode.ok);
    expect(out).toHaveLength(1);
    const lines = out[0]!.split('\n');
    expect(lines[0]).toMatch(/guest\.txt\.gz: ftrace-text \(gzip\), [\d,]+ bytes of text$/);
    expect(lines).toContain('  format     trace-cmd-report');
    expect(lines).toContain('  cpus       4 (from header)');
    expect(lines).toContain('  events     1,669');
    expect(lines).toContain('  diagnostics 0 errors, 0 warnings, 0 infos');
  });
});

describe('exit codes', () => {
  it('0 and usage for --help', async () => {
    const { code, out } = await run('--help');
    expect(code).toBe(ExitCode.ok);
    expect(out).toHaveLength(1);
    expect(out[0]).toContain('Usage:');
    expect(out[0]).toContain('vcpu-lens info FILE...');
    expect(out[0]).toContain('Exit codes: 0 ok, 1 input had errors, 2 usage, 3 input unreadable');
  });

  it('0 and the version for --version', async () => {
    expect(await run('--version')).toEqual({ code: ExitCode.ok, out: ['0.1.0'] });
  });

  it('0 for a clean trace', async () => {
    const { code, out } = await run('info', '--json', tmpFile('good.txt', GOOD + '\n'));
    expect(code).toBe(ExitCode.ok);
    const info = JSON.parse(out[0]!) as { traces: { events: { total: number } }[] };
    expect(info.traces[0]!.events.total).toBe(3);
  });

  it('0 for a clean gzip trace whatever its name', async () => {
    const { code, out } = await run(
      'info',
      '--json',
      tmpFile('trace.dat', gzipSync(Buffer.from(GOOD + '\n'))),
    );
    expect(code).toBe(ExitCode.ok);
    expect(JSON.parse(out[0]!)).toMatchObject({ format: 'ftrace-text', compression: 'gzip' });
  });

  it.each([
    { what: 'no command', argv: [] as string[] },
    { what: 'an unknown command', argv: ['frobnicate', 'x.txt'] },
    { what: 'info without a file', argv: ['info'] },
    { what: 'info --json without a file', argv: ['info', '--json'] },
    { what: 'an unknown option', argv: ['info', 'x.txt', '--frob'] },
    { what: 'a bad --max-diagnostics', argv: ['info', 'x.txt', '--max-diagnostics', 'many'] },
    { what: 'tasks without a file', argv: ['tasks'] },
  ])('2 for $what', async ({ argv }) => {
    const { code } = await run(...argv);
    expect(code).toBe(ExitCode.usage);
  });

  it('names the unknown command on stderr', async () => {
    await run('frobnicate');
    expect(stderr.join('')).toContain("vcpu-lens: unknown command 'frobnicate'");
  });

  it('3 for a missing file, with a VL1010 diagnostic', async () => {
    const missing = path.join(dir, 'does-not-exist.txt');
    const { code, out } = await run('info', '--json', missing);
    expect(code).toBe(ExitCode.noInput);
    const info = JSON.parse(out[0]!) as {
      traces: unknown[];
      diagnostics: { code: string; severity: string }[];
    };
    expect(info.traces).toEqual([]);
    expect(info.diagnostics.map((d) => [d.code, d.severity])).toEqual([['VL1010', 'error']]);
  });

  it.each([
    {
      what: 'a text file that is no trace',
      content: 'Dear diary,\nnothing happened today: really.\n',
    },
    { what: 'an empty file', content: '' },
  ])('3 for $what, with a VL1009 diagnostic', async ({ what, content }) => {
    const { code, out } = await run(
      'info',
      '--json',
      tmpFile(`${what.replaceAll(' ', '-')}.txt`, content),
    );
    expect(code).toBe(ExitCode.noInput);
    const info = JSON.parse(out[0]!) as { traces: unknown[]; diagnostics: { code: string }[] };
    expect(info.traces).toEqual([]);
    expect(info.diagnostics.map((d) => d.code)).toEqual(['VL1009']);
  });

  it('1 for a trace-cmd .dat cut inside its header, with VL1013 and the byte offset', async () => {
    const p = tmpFile(
      'cut.dat',
      Buffer.from([0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67, 0x37, 0x00, 0x00]),
    );
    const { code, out } = await run('info', '--json', p);
    expect(code).toBe(ExitCode.inputErrors);
    const info = JSON.parse(out[0]!) as {
      format: string;
      traces: {
        events: { total: number };
        diagnostics: { items: { code: string; offset: number }[] };
      }[];
    };
    expect(info.format).toBe('trace-cmd-dat');
    expect(info.traces[0]!.events.total).toBe(0);
    expect(info.traces[0]!.diagnostics.items.map((d) => [d.code, d.offset])).toEqual([
      ['VL1013', 13],
    ]);
  });

  it('1 for a trace with a bad line, which is reported with its line number', async () => {
    const p = tmpFile('bad-line.txt', GOOD + '\nthis is not an event line\n');
    const { code, out } = await run('info', '--json', p);
    expect(code).toBe(ExitCode.inputErrors);
    const info = JSON.parse(out[0]!) as {
      traces: { events: { total: number }; diagnostics: { errors: number; items: unknown[] } }[];
    };
    expect(info.traces[0]!.events.total).toBe(3);
    expect(info.traces[0]!.diagnostics.errors).toBe(1);
    expect(info.traces[0]!.diagnostics.items).toEqual([
      {
        code: 'VL1001',
        severity: 'error',
        line: 5,
        source: 'bad-line.txt',
        message: 'not an ftrace event line: "this is not an event line"',
      },
    ]);
  });

  it('0 for a trace with only warnings (a truncated last line)', async () => {
    const { code } = await run(
      'info',
      tmpFile('cut.txt', GOOD + '\n          <idle>-0     [001]  5034.17'),
    );
    expect(code).toBe(ExitCode.ok);
  });

  it('3 when one of several files is missing, and prints an array', async () => {
    const { code, out } = await run(
      'info',
      '--json',
      tmpFile('good2.txt', GOOD + '\n'),
      path.join(dir, 'nope.txt'),
    );
    expect(code).toBe(ExitCode.noInput);
    const infos = JSON.parse(out[0]!) as { schema: string; traces: unknown[] }[];
    expect(infos.map((i) => [i.schema, i.traces.length])).toEqual([
      ['vcpu-lens.info/1', 1],
      ['vcpu-lens.info/1', 0],
    ]);
  });
});

describe('trace-cmd .dat on the command line', () => {
  it('simulate --out DIR --format dat writes host.dat and guest.dat that info and dump read', async () => {
    const out = path.join(dir, 'sim-dat');
    const s = await run('simulate', '--preset', 'small', '--out', out, '--format', 'dat');
    expect(s.code).toBe(ExitCode.ok);
    expect(existsSync(path.join(out, 'host.dat'))).toBe(true);
    expect(existsSync(path.join(out, 'guest.txt'))).toBe(false);
    const i = await run('info', path.join(out, 'guest.dat'), '--json');
    expect(i.code).toBe(ExitCode.ok);
    const info = JSON.parse(i.out[0]!) as {
      format: string;
      traces: { format: string; dat: { fileVersion: number; compression: string } }[];
    };
    expect(info.format).toBe('trace-cmd-dat');
    expect(info.traces[0]!.dat).toMatchObject({ fileVersion: 7, compression: 'none' });
    const text = await run('info', path.join(out, 'host.dat'));
    expect(text.out.join('\n')).toMatch(/\.dat {7}v7, none/);
  });

  it('simulate --format zlib-dat is a usage error naming the choices', async () => {
    const s = await run('simulate', '--out', path.join(dir, 'x'), '--format', 'zlib-dat');
    expect(s.code).toBe(ExitCode.usage);
    expect(stderr.join('')).toMatch(/--format is text, dat or dat-zlib/);
  });
});

describe('loading limits from the command line', () => {
  it('--memory-cap stops the load with VL1014 and exit 1, keeping the events before it', async () => {
    // The real host trace of the bundled pair (173,074 events, ~4 MiB of columns) under 1 MiB.
    const host = path.resolve(__dirname, '../fixtures/real/quiet-passive-local/host.txt.gz');
    const { code, out } = await run('info', '--json', '--memory-cap', '1M', host);
    expect(code).toBe(ExitCode.inputErrors);
    const info = JSON.parse(out[0]!) as {
      traces: {
        events: { total: number };
        diagnostics: { items: { code: string; line: number; message: string }[] };
      }[];
    };
    const t = info.traces[0]!;
    expect(t.events.total).toBeGreaterThan(0);
    expect(t.events.total).toBeLessThan(173_074);
    const d = t.diagnostics.items.find((x) => x.code === 'VL1014')!;
    expect(d.message).toMatch(/memory cap \(1 MiB\).*--memory-cap/);
    expect(d.line).toBeGreaterThan(t.events.total);
    expect((await run('info', '--memory-cap', 'off', host)).code).toBe(ExitCode.ok);
  });

  it('--memory-cap and --progress are usage errors when unreadable', async () => {
    for (const bad of [
      ['--memory-cap', '12X'],
      ['--memory-cap', '-1G'],
      ['--progress', 'sometimes'],
    ]) {
      const { code } = await run('info', ...bad, tmpFile('ok.txt', GOOD + '\n'));
      expect(code).toBe(ExitCode.usage);
      expect(stderr.join('')).toContain(bad[0]!);
    }
  });
});
