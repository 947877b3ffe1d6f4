#!/usr/bin/env node
// `vcpu-lens`, the headless command over the engine. Results go to stdout, logs to stderr.

import { parseArgs } from 'node:util';
import { totalmem } from 'node:os';
import { CliReadOptions, ProgressBar } from './progress';
import { parseVcpuMapFlag } from '../core/correlate/vcpu-map';
import { ExitCode } from './exit-codes';
import { analyzeCommand } from './analyze';
import { dumpCommand } from './dump';
import { simulateCommand, simulateOverrides } from './simulate';
import { PRESETS } from '../core/sim/presets';
import { parseSweep, Sweep } from '../core/sim/sweep';
import { infoCommand } from './info';
import { tasksCommand } from './tasks';
import { dumpWriter, log, safeLines } from './terminal';

const VERSION = '0.1.0';

const HELP = `vcpu-lens ${VERSION}: host + guest scheduler traces, vCPU preemption, DoP advice

Usage:
  vcpu-lens info FILE... [--json] [--clock NAME] [--max-diagnostics N]
      What a trace holds: format, clock and unit, CPUs, time span, events per name, tasks,
      diagnostics. FILE: trace-cmd report text, tracefs trace text or perf script text,
      optionally gzip-compressed; the format is sniffed from the content.
  vcpu-lens tasks FILE [--json] [--top N] [--match REGEX]
      Time each thread spent running, runnable, preempted, sleeping and in D, and each CPU's
      busy time, from the sched_switch / wakeup timelines (e.g. --match 'CPU .*/(KVM|TCG)').
  vcpu-lens analyze --host H --guest G [--vcpu-map 0=TID,...] [--offset D] [--json]
                    [--out REPORT.html] [--chrome-trace FILE.json] [--force]
      Host + guest traces of the same run: which host thread is which vCPU, the guest-to-host
      clock map (estimated when nothing is recorded), what each vCPU did on the host (running,
      preempted, waiting, idle, in the VMM), which guest threads lost time and to which host tasks.
      --out writes a self-contained HTML report with the interactive timeline; --chrome-trace
      the merged host + guest timeline as trace-event JSON for Perfetto UI / chrome://tracing;
      neither overwrites an existing file without --force.
  vcpu-lens dump FILE
      The trace as trace-cmd report (3.1) text on stdout: converts tracefs and perf text, and
      gives back trace-cmd text unchanged (diagnostics on stderr). To a terminal, control and
      bidi characters in names are shown as \\uXXXX escapes; to a file or pipe, as they are.
  vcpu-lens simulate [--preset small|lab-4v2p|npb-ua-b] [--policy spin|block|spin-then-block]
                     [--dop fixed|dynamic|pvsched|oracle] [--seed N] [--barriers N] [--compare] [--json]
                     [--out DIR [--format text|dat|dat-zlib] [--force]]
                     [--sweep NAME=FROM..TO[:STEP]|NAME=V1,V2,...]
                     [--runtime libgomp|libomp] [--spin-count N] [--blocktime MS]
                     [--halt-poll NS] [--ple] [--co-runner hog|vm]
      The dual-level scheduling simulator: a run with the preset's co-runner, or with --compare
      the talk's five runs (spin/block without and with host preemption, spin with pvsched DoP)
      and their ratios; --out writes host.txt and guest.txt (trace-cmd text), truth.json and
      report.html (the analysis of those traces with the interactive timeline), or with
      --format dat host.dat and guest.dat (trace-cmd .dat v7; dat-zlib: zlib-compressed);
      --sweep runs it once per value of pcpus, vcpus, threads, hogs, barriers or seed and prints
      a table (with --compare, the five runs per value). spin-then-block spins as the runtime
      would: libgomp GOMP_SPINCOUNT (--spin-count, default 300000) or libomp KMP_BLOCKTIME
      (--blocktime, default 200 ms). Host: --halt-poll NS (KVM halt polling), --ple (pause-loop
      exiting), --co-runner vm (the co-runners are another VM's vCPU threads, not plain hogs).
  vcpu-lens --help | --version

Options:
  --json               print the stable JSON schema (docs/cli.md) instead of text
  --clock NAME         the trace clock's name (text traces do not record it), e.g. x86-tsc
  --max-diagnostics N  keep at most N diagnostics per trace (default 1000)
  --threads N          threads for big uncompressed text files (default: cores, at most 4; 1 = off)
  --memory-cap SIZE    stop loading a trace once it holds SIZE (512M, 4G; 'off'): the events
                       before it are analysed and an error says where it stopped (default: half
                       of this machine's memory)
  --progress WHEN      a progress bar on stderr while loading: auto (on a terminal), always, never
  --vcpu-map M         analyze: vCPU to host thread, e.g. 0=3315,1=3316 (when names tell nothing)
  --offset D           analyze: host - guest timestamp offset in the traces' unit (skip estimation)
  --pair-guest RE, --pair-host RE
                       analyze: events that happen at the same moment on both sides, matched
                       against 'name: text' ('print: <message>' for markers), paired in order
  --out FILE           analyze: write the HTML report there; simulate: the output directory
  --chrome-trace FILE  analyze: write the merged timeline as Chrome trace-event JSON
  --top N              tasks: show the N threads that ran longest (default 20)
  --match REGEX        tasks: only threads whose comm matches

Exit codes: 0 ok, 1 input had errors, 2 usage, 3 input unreadable, 70 internal error.`;

export async function main(
  argv: string[],
  rawOut: (s: string) => void = (s) => process.stdout.write(s + '\n'),
  /** Raw output (no newline added), for `dump`; stdout by default (escaped when a terminal). */
  write?: (s: string) => void,
): Promise<number> {
  // Everything a command prints goes through here: no control or bidi character gets out raw,
  // whichever print path forgot to escape a name.
  const out = (s: string): void => rawOut(safeLines(s));
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        clock: { type: 'string' },
        'max-diagnostics': { type: 'string', default: '1000' },
        top: { type: 'string', default: '20' },
        threads: { type: 'string' },
        'memory-cap': { type: 'string' },
        progress: { type: 'string', default: 'auto' },
        host: { type: 'string' },
        guest: { type: 'string' },
        'vcpu-map': { type: 'string' },
        offset: { type: 'string' },
        'pair-guest': { type: 'string' },
        preset: { type: 'string', default: 'small' },
        policy: { type: 'string' },
        dop: { type: 'string' },
        seed: { type: 'string' },
        barriers: { type: 'string' },
        compare: { type: 'boolean', default: false },
        sweep: { type: 'string' },
        runtime: { type: 'string' },
        'spin-count': { type: 'string' },
        blocktime: { type: 'string' },
        'halt-poll': { type: 'string' },
        ple: { type: 'boolean', default: false },
        'co-runner': { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string' },
        force: { type: 'boolean', default: false },
        'pair-host': { type: 'string' },
        'chrome-trace': { type: 'string' },
        match: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    log(`vcpu-lens: ${(e as Error).message}\n\n${HELP}`);
    return ExitCode.usage;
  }
  const { values, positionals } = parsed;
  if (values.version) {
    out(VERSION);
    return ExitCode.ok;
  }
  const [cmd, ...rest] = positionals;
  if (values.help || cmd === undefined || cmd === 'help') {
    out(HELP);
    return cmd === undefined && !values.help ? ExitCode.usage : ExitCode.ok;
  }
  // Options every command that reads traces shares.
  const max = Number(values['max-diagnostics']);
  if (!Number.isInteger(max) || max < 0) {
    log(`vcpu-lens: --max-diagnostics wants a whole number, got '${values['max-diagnostics']}'`);
    return ExitCode.usage;
  }
  const threads = values.threads !== undefined ? Number(values.threads) : undefined;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    log(`vcpu-lens: --threads wants a positive whole number, got '${values.threads}'`);
    return ExitCode.usage;
  }
  const cap = parseSize(values['memory-cap']);
  if (cap === null) {
    log(
      `vcpu-lens: --memory-cap wants a size such as 512M or 4G, or 'off', got '${values['memory-cap']}'`,
    );
    return ExitCode.usage;
  }
  const progress = values.progress;
  if (progress !== 'auto' && progress !== 'always' && progress !== 'never') {
    log(`vcpu-lens: --progress is auto, always or never, got '${progress}'`);
    return ExitCode.usage;
  }
  const read: CliReadOptions = {
    bar: new ProgressBar(progress),
    ...(cap !== undefined ? { memoryCapBytes: cap } : {}),
    diagnosticsCap: max,
    ...(values.clock !== undefined ? { clock: values.clock } : {}),
    ...(threads !== undefined ? { threads } : {}),
  };
  switch (cmd) {
    case 'info': {
      if (rest.length === 0) {
        log('vcpu-lens info: give at least one trace file');
        return ExitCode.usage;
      }
      return infoCommand(rest, { json: values.json!, read }, out);
    }
    case 'tasks': {
      if (rest.length !== 1) {
        log('vcpu-lens tasks: give exactly one trace file');
        return ExitCode.usage;
      }
      const top = Number(values.top);
      if (!Number.isInteger(top) || top < 1) {
        log(`vcpu-lens tasks: --top wants a positive whole number, got '${values.top}'`);
        return ExitCode.usage;
      }
      let match: RegExp | undefined;
      try {
        match = values.match !== undefined ? new RegExp(values.match) : undefined;
      } catch (e) {
        log(`vcpu-lens tasks: --match: ${(e as Error).message}`);
        return ExitCode.usage;
      }
      return tasksCommand(
        rest[0]!,
        { json: values.json!, top, read, ...(match ? { match } : {}) },
        out,
      );
    }
    case 'dump': {
      if (rest.length !== 1) {
        log('vcpu-lens dump: give exactly one trace file');
        return ExitCode.usage;
      }
      // Raw text in chunks, so not `out`, which adds a newline per call.
      return dumpCommand(rest[0]!, read, write ?? dumpWriter());
    }
    case 'simulate': {
      const preset = PRESETS[values.preset!];
      if (preset === undefined) {
        log(
          `vcpu-lens simulate: unknown preset '${values.preset}' (${Object.keys(PRESETS).join(', ')})`,
        );
        return ExitCode.usage;
      }
      const parsed = simulateOverrides(values, preset);
      if (typeof parsed === 'string') {
        log(`vcpu-lens simulate: ${parsed}`);
        return ExitCode.usage;
      }
      const overrides = parsed;
      let sweep: Sweep | undefined;
      if (values.sweep !== undefined) {
        const s = parseSweep(values.sweep);
        if ('error' in s) {
          log(`vcpu-lens simulate: --sweep ${s.error}`);
          return ExitCode.usage;
        }
        if (values.out !== undefined) {
          log(
            'vcpu-lens simulate: --sweep and --out do not go together (which run would it write?)',
          );
          return ExitCode.usage;
        }
        sweep = s;
      }
      const format = values.format ?? 'text';
      if (!['text', 'dat', 'dat-zlib'].includes(format)) {
        log(`vcpu-lens simulate: --format is text, dat or dat-zlib, not '${format}'`);
        return ExitCode.usage;
      }
      return simulateCommand(
        {
          preset,
          format: format as 'text' | 'dat' | 'dat-zlib',
          overrides,
          ...(sweep !== undefined ? { sweep } : {}),
          compare: values.compare!,
          json: values.json!,
          force: values.force!,
          ...(values.out !== undefined ? { out: values.out } : {}),
        },
        out,
      );
    }
    case 'analyze': {
      const hostFile = values.host ?? rest[0];
      const guestFile = values.guest ?? rest[1];
      if (hostFile === undefined || guestFile === undefined) {
        log('vcpu-lens analyze: give --host FILE and --guest FILE');
        return ExitCode.usage;
      }
      let vcpuMap: Map<number, number> | undefined;
      try {
        vcpuMap =
          values['vcpu-map'] !== undefined ? parseVcpuMapFlag(values['vcpu-map']) : undefined;
      } catch (e) {
        log(`vcpu-lens analyze: --vcpu-map: ${(e as Error).message}`);
        return ExitCode.usage;
      }
      let offset: bigint | undefined;
      if (values.offset !== undefined) {
        if (!/^-?\d+$/.test(values.offset)) {
          log(
            `vcpu-lens analyze: --offset wants a whole number in the traces' unit, got '${values.offset}'`,
          );
          return ExitCode.usage;
        }
        offset = BigInt(values.offset);
      }
      let pairing: { guest: RegExp; host: RegExp } | undefined;
      if ((values['pair-guest'] === undefined) !== (values['pair-host'] === undefined)) {
        log('vcpu-lens analyze: give both --pair-guest and --pair-host');
        return ExitCode.usage;
      }
      if (values['pair-guest'] !== undefined && values['pair-host'] !== undefined) {
        try {
          pairing = {
            guest: new RegExp(values['pair-guest']),
            host: new RegExp(values['pair-host']),
          };
        } catch (e) {
          log(`vcpu-lens analyze: --pair-guest/--pair-host: ${(e as Error).message}`);
          return ExitCode.usage;
        }
      }
      return analyzeCommand(
        hostFile,
        guestFile,
        {
          json: values.json!,
          read,
          pair: {
            ...(vcpuMap !== undefined ? { vcpuMap } : {}),
            ...(offset !== undefined ? { offset } : {}),
            ...(pairing !== undefined ? { pairing } : {}),
          },
          force: values.force!,
          ...(values.out !== undefined ? { html: values.out } : {}),
          ...(values['chrome-trace'] !== undefined ? { chromeTrace: values['chrome-trace'] } : {}),
        },
        out,
      );
    }
    default:
      log(`vcpu-lens: unknown command '${cmd}'\n\n${HELP}`);
      return ExitCode.usage;
  }
}

// Run when bundled as the CLI entry (not when imported by tests).
if (process.env['VCPU_LENS_NO_MAIN'] === undefined && require.main === module) {
  // `vcpu-lens dump big.txt | head`: a closed pipe ends the command quietly, as for cat.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(ExitCode.ok);
    throw e;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      log(`vcpu-lens: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      process.exitCode = ExitCode.internal;
    },
  );
}

/**
 * A --memory-cap value in bytes: undefined for 'off', null when unreadable. Without the option:
 * half of the machine's memory, so a huge trace stops with a message instead of exhausting it.
 */
function parseSize(v: string | undefined): number | undefined | null {
  if (v === undefined) return Math.floor(totalmem() / 2);
  if (v === 'off' || v === '0') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(v.trim());
  if (m === null) return null;
  const mul = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase()]!;
  const bytes = Math.floor(Number(m[1]) * mul);
  return bytes > 0 ? bytes : null;
}
