// The command registry (STYLE.md §10): each command takes its own options only (another command's
// option is a usage error naming it), its --help lists exactly those, the global help comes from
// the registry, and simulate --compare --out writes every run's files (never over existing ones).

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/cli/exit-codes';
import { COMPARE_RUNS } from '../../src/core/sim/presets';
import { cliRunner } from './support/cli';

process.env['VCPU_LENS_NO_MAIN'] = '1';
const { COMMANDS, globalHelp } = await import('../../src/cli/main');

const TRACE = [
  'cpus=1',
  '          <idle>-0     [000]  5034.172647: sched_waking:         comm=rcu_preempt pid=15 prio=120 target_cpu=000',
  '     rcu_preempt-15    [000]  5034.172671: sched_switch:         rcu_preempt:15 [120] W ==> swapper/0:0 [120]',
  '',
].join('\n');

const dir = mkdtempSync(path.join(tmpdir(), 'vl-cli-commands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const F = path.join(dir, 'trace.txt');
writeFileSync(F, TRACE);

const run = cliRunner();

/** The option names listed under "Options:" in a command's help. */
function listedOptions(help: string): string[] {
  const section = help.split('\nOptions:\n')[1] ?? '';
  return [...section.matchAll(/^ {2}(?:-\w, )?--([\w-]+)/gm)].map((m) => m[1]!);
}

describe('the command registry', () => {
  it('lists every file of src/cli/commands once, under its own name', () => {
    const files = readdirSync(path.join(__dirname, '../../src/cli/commands'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''))
      .sort();
    const names = COMMANDS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(files);
  });

  it('the global help gives each command once, with its summary', () => {
    const help = globalHelp();
    for (const c of COMMANDS) {
      expect(help.match(new RegExp(`^ {2}vcpu-lens ${c.name} `, 'gm'))).toHaveLength(1);
      expect(help.replace(/\s+/g, ' ')).toContain(c.summary);
    }
  });

  it('a shared option is one declaration, taken by reference', () => {
    const byName = Object.fromEntries(COMMANDS.map((c) => [c.name, c.options]));
    for (const opt of ['clock', 'max-diagnostics', 'threads', 'memory-cap', 'progress'])
      for (const c of ['info', 'tasks', 'dump', 'analyze'])
        expect(byName[c]![opt], `${c} --${opt}`).toBe(byName['info']![opt]);
    for (const c of ['info', 'tasks', 'analyze', 'simulate'])
      expect(byName[c]!['json']).toBe(byName['info']!['json']);
    expect(byName['simulate']!['force']).toBe(byName['analyze']!['force']);
  });
});

describe('options of another command are usage errors', () => {
  it.each([
    { argv: ['info', '--preset', 'small', F], cmd: 'info', bad: '--preset', owner: 'simulate' },
    { argv: ['tasks', '--barriers', '9', F], cmd: 'tasks', bad: '--barriers', owner: 'simulate' },
    { argv: ['dump', '--compare', F], cmd: 'dump', bad: '--compare', owner: 'simulate' },
    { argv: ['dump', '--json', F], cmd: 'dump', bad: '--json', owner: 'info' },
    { argv: ['simulate', '--threads', '2'], cmd: 'simulate', bad: '--threads', owner: 'info' },
    { argv: ['info', F, '--top', '3'], cmd: 'info', bad: '--top', owner: 'tasks' },
    { argv: ['info', '--frob', F], cmd: 'info', bad: '--frob', owner: undefined },
  ])('$argv.0 $bad: exit 2, naming the option and listing $cmd options', async (c) => {
    const r = await run(...c.argv);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.out).toBe('');
    expect(r.err).toContain(`vcpu-lens ${c.cmd}: ${c.bad} is not an option of ${c.cmd}`);
    if (c.owner !== undefined) expect(r.err).toContain(c.owner);
    const own = COMMANDS.find((x) => x.name === c.cmd)!;
    expect(listedOptions(r.err).sort()).toEqual([...Object.keys(own.options), 'help'].sort());
  });

  it('before the command, only its options may come', async () => {
    const a = await run('--json', 'info', F);
    const b = await run('info', '--json', F);
    expect(a.code).toBe(ExitCode.ok);
    expect(a.out).toBe(b.out);
    const c = await run('--preset', 'small', 'info', F);
    expect(c.code).toBe(ExitCode.usage);
    expect(c.err).toContain('--preset is not an option of info');
    const d = await run(F, 'info');
    expect(d.code).toBe(ExitCode.usage);
    expect(d.err).toContain('give the command first');
  });
});

describe('help', () => {
  it.each(COMMANDS.map((c) => c.name))(
    '%s --help: its usage and exactly its own options',
    async (name) => {
      const c = COMMANDS.find((x) => x.name === name)!;
      const r = await run(name, '--help');
      expect(r.code).toBe(ExitCode.ok);
      expect(r.out.startsWith(`Usage: vcpu-lens ${name} `)).toBe(true);
      expect(r.out).toContain(c.summary);
      expect(listedOptions(r.out).sort()).toEqual([...Object.keys(c.options), 'help'].sort());
      // Every option gets its help line.
      for (const spec of Object.values(c.options))
        expect(r.out.replace(/\s+/g, ' ')).toContain(spec.help);
      expect((await run('help', name)).out).toBe(r.out);
      expect((await run(name, '-h')).out).toBe(r.out);
    },
  );

  it('--help and help print the global help; help of no command is a usage error', async () => {
    expect(await run('--help')).toMatchObject({ code: ExitCode.ok, out: globalHelp() });
    expect(await run('help')).toMatchObject({ code: ExitCode.ok, out: globalHelp() });
    const r = await run('help', 'frobnicate');
    expect(r.code).toBe(ExitCode.usage);
    expect(r.err).toContain("no command 'frobnicate'");
  });
});

describe('simulate --compare --out DIR', () => {
  const names = ['host.txt', 'guest.txt', 'truth.json'];

  it("writes each run's traces and truth in DIR/<run>/ and the numbers in compare.json", async () => {
    const out = path.join(dir, 'compare');
    const r = await run('simulate', '--compare', '--seed', '3', '--out', out, '--json');
    expect(r.code).toBe(ExitCode.ok);
    const printed = JSON.parse(r.out) as { runs: { name: string; wallS: number }[] };
    const written = JSON.parse(readFileSync(path.join(out, 'compare.json'), 'utf8')) as {
      runs: { name: string; wallS: number }[];
      ratios: Record<string, number>;
    };
    expect(written).toEqual(printed);
    // The same numbers as without --out.
    expect(written).toEqual(
      JSON.parse((await run('simulate', '--compare', '--seed', '3', '--json')).out),
    );
    expect(written.runs.map((x) => x.name)).toEqual(COMPARE_RUNS);
    expect(Object.keys(written.ratios)).toHaveLength(4);
    for (const { name, wallS } of written.runs) {
      for (const f of names) expect(existsSync(path.join(out, name, f)), `${name}/${f}`).toBe(true);
      const truth = JSON.parse(readFileSync(path.join(out, name, 'truth.json'), 'utf8')) as {
        wallS: number;
        config: { seed: number };
        vcpuWaitNs: number[];
      };
      expect(truth.wallS).toBe(wallS);
      expect(truth.config.seed).toBe(3);
      expect(truth.vcpuWaitNs.length).toBeGreaterThan(0);
      expect(readFileSync(path.join(out, name, 'host.txt'), 'utf8')).toMatch(/sched_switch/);
    }
    // The ideal runs have no co-runner; the preempted ones do.
    expect(readFileSync(path.join(out, 'spin-ideal', 'host.txt'), 'utf8')).not.toMatch(/hog-/);
    expect(readFileSync(path.join(out, 'spin-preempted', 'host.txt'), 'utf8')).toMatch(/hog-/);
  });

  it('refuses, before any work, when one of the files exists; --force overwrites', async () => {
    const out = path.join(dir, 'compare-kept');
    mkdirSync(path.join(out, 'spin-pvdop'), { recursive: true });
    writeFileSync(path.join(out, 'spin-pvdop', 'truth.json'), 'mine');
    const r = await run('simulate', '--compare', '--out', out);
    expect(r.code).toBe(ExitCode.usage);
    expect(r.err).toMatch(/spin-pvdop\/truth\.json exist; give --force to overwrite/);
    expect(readFileSync(path.join(out, 'spin-pvdop', 'truth.json'), 'utf8')).toBe('mine');
    expect(existsSync(path.join(out, 'spin-ideal'))).toBe(false);
    expect(existsSync(path.join(out, 'compare.json'))).toBe(false);

    writeFileSync(path.join(dir, 'compare.json'), 'mine too');
    const c = await run('simulate', '--compare', '--out', dir);
    expect(c.code).toBe(ExitCode.usage);
    expect(readFileSync(path.join(dir, 'compare.json'), 'utf8')).toBe('mine too');
    expect(existsSync(path.join(dir, 'spin-ideal'))).toBe(false);

    expect((await run('simulate', '--compare', '--out', out, '--force')).code).toBe(ExitCode.ok);
    expect(readFileSync(path.join(out, 'spin-pvdop', 'truth.json'), 'utf8')).toMatch(/^\{/);
  });
});

describe('simulate --out', () => {
  it('--dop oracle records the best fixed DoP it found (truth.json says which)', async () => {
    const out = path.join(dir, 'oracle');
    const r = await run('simulate', '--dop', 'oracle', '--out', out);
    expect(r.code).toBe(ExitCode.ok);
    const truth = JSON.parse(readFileSync(path.join(out, 'truth.json'), 'utf8')) as {
      config: { dop: string; fixedDop?: number };
    };
    expect(truth.config.dop).toBe('fixed');
    expect(truth.config.fixedDop).toBeGreaterThan(0);
    expect(r.out).toContain(`DoP fixed ${truth.config.fixedDop}`);
  });
});
