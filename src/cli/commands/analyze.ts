// `vcpu-lens analyze --host H --guest G`: which host thread is which vCPU, the clock map, what
// each vCPU did on the host, and which guest threads lost time to which host tasks. With
// `--guest G` alone, the same inferred from the guest trace (analyze/guest-only.ts), marked so.

import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PairOptions } from '../../core/analyze/pair';
import { DIAG } from '../../core/model/diagnostics';
import type { LoadResult } from '../../core/io/read-trace-file';
import type { Trace } from '../../core/model/trace';
import type { TimelineBuild, Timelines } from '../../core/timeline/build';
import type { AnalyzeReport } from '../../core/report/analyze';
import { ExitCode } from '../exit-codes';
import { CliReadOptions, compileZstdAheadFor, loadTraces } from '../progress';
import { formatDiag, log, safeName, safeText } from '../terminal';
import { defineCommand, usageError } from '../command';
import {
  formatAbsTs,
  formatClockDuration,
  formatClockOffset,
  formatCount,
  formatDuration,
  TSC_RATE_HINT,
} from '../../core/model/time';
import { FORCE_OPTION, JSON_OPTION, READ_OPTIONS, readOptions } from '../shared-options';

export const analyze = defineCommand({
  name: 'analyze',
  summary:
    'Host + guest traces of one run (or a guest trace alone, inferred): vCPU time, stalls, advice.',
  usage:
    '[--host H] --guest G [--vcpu-map 0=TID,...] [--offset D] [--pair-guest RE --pair-host RE] ' +
    '[--barriers N | --barrier-marker RE] [--reference-host H2 --reference-guest G2] [--json] [--out REPORT.html] [--chrome-trace FILE.json] [--force] ' +
    '[--parquet DIR [--name RUN]]',
  details:
    'Which host thread is which vCPU, the guest-to-host clock map (estimated when nothing is\n' +
    'recorded), what each vCPU did on the host (running, preempted, waiting, idle, in the VMM),\n' +
    'which guest threads lost time and to which host tasks. H and G may also be given as the two\n' +
    'arguments. --out writes a self-contained HTML report with the interactive timeline;\n' +
    '--chrome-trace the merged host + guest timeline as trace-event JSON for Perfetto UI /\n' +
    'chrome://tracing; neither overwrites an existing file without --force. --parquet writes the\n' +
    "run into a fleet dataset (docs/fleet.md), named after the host file's folder unless --name.\n" +
    'With --guest G and no host trace (guest-only), when each vCPU was absent (the host not\n' +
    'running it while the guest had work) is inferred from the guest: timers firing late, the\n' +
    'periodic tick, wakeups run late (docs/guest-only.md says what to record); everything is\n' +
    'then marked inferred.\n' +
    'A spinning run (OMP_WAIT_POLICY=active) hides its work: --reference-host H2\n' +
    '--reference-guest G2 give a traced run of the same program whose trace shows it (blocking,\n' +
    'OMP_WAIT_POLICY=passive; any team size, a short run will do): the what-if takes the work per\n' +
    "region from it and keeps this run's own host (slice, co-runners, VMM sleeps).",
  options: {
    host: { type: 'string', arg: 'FILE', help: 'the host trace' },
    guest: { type: 'string', arg: 'FILE', help: 'the guest trace' },
    'vcpu-map': {
      type: 'string',
      arg: 'M',
      help: 'vCPU to host thread, e.g. 0=3315,1=3316 (when names tell nothing)',
    },
    offset: {
      type: 'string',
      arg: 'D',
      help: "host - guest timestamp offset in the traces' unit, ns with --tsc-hz (skip estimation)",
    },
    'pair-guest': {
      type: 'string',
      arg: 'RE',
      help: "guest events that happen at the same moment as the --pair-host ones, matched against 'name: text' ('print: <message>' for markers), paired in order",
    },
    'pair-host': {
      type: 'string',
      arg: 'RE',
      help: 'host events paired with the --pair-guest ones',
    },
    barriers: {
      type: 'string',
      arg: 'N',
      help: "the program's barrier count, for the advice's what-if (a spinning run shows none)",
    },
    'barrier-marker': {
      type: 'string',
      arg: 'RE',
      help: 'guest trace markers that each mark one barrier (counted for the what-if)',
    },
    'reference-host': {
      type: 'string',
      arg: 'FILE',
      help: 'host trace of a blocking run of the same program (OMP_WAIT_POLICY=passive): the what-if reads the work per region there when this run spins',
    },
    'reference-guest': {
      type: 'string',
      arg: 'FILE',
      help: 'guest trace of that reference run',
    },
    ...JSON_OPTION,
    out: { type: 'string', arg: 'FILE', help: 'write the HTML report there' },
    'chrome-trace': {
      type: 'string',
      arg: 'FILE',
      help: 'write the merged timeline as Chrome trace-event JSON',
    },
    ...FORCE_OPTION,
    parquet: {
      type: 'string',
      arg: 'DIR',
      help: 'write this run into the Parquet dataset in DIR (as vcpu-lens fleet does; replaces a run of that name)',
    },
    name: {
      type: 'string',
      arg: 'RUN',
      help: "the run's name in the --parquet dataset (default: the host file's folder)",
    },
    ...READ_OPTIONS,
  },
  async run(v, files, io) {
    const read = readOptions(v);
    if (typeof read === 'string') return usageError('analyze', read);
    const guestOnly = v.host === undefined && v.guest !== undefined && files.length === 0;
    const hostFile = guestOnly ? undefined : (v.host ?? files[0]);
    const guestFile = v.guest ?? files[1];
    if ((hostFile === undefined && !guestOnly) || guestFile === undefined)
      return usageError('analyze', 'give --host FILE and --guest FILE, or --guest FILE alone');
    if (guestOnly) {
      const pairOnly = ['vcpu-map', 'offset', 'pair-guest', 'pair-host'] as const;
      const given = pairOnly.filter((k) => v[k] !== undefined);
      if (given.length > 0)
        return usageError(
          'analyze',
          `${given.map((k) => `--${k}`).join(', ')} need${given.length === 1 ? 's' : ''} a host trace (--host)`,
        );
    }
    let vcpuMap: Map<number, number> | undefined;
    try {
      vcpuMap =
        v['vcpu-map'] !== undefined
          ? (await import('../../core/correlate/vcpu-map')).parseVcpuMapFlag(v['vcpu-map'])
          : undefined;
    } catch (e) {
      return usageError('analyze', `--vcpu-map: ${(e as Error).message}`);
    }
    let offset: bigint | undefined;
    if (v.offset !== undefined) {
      if (!/^-?\d+$/.test(v.offset))
        return usageError(
          'analyze',
          `--offset wants a whole number in the traces' unit, got '${v.offset}'`,
        );
      offset = BigInt(v.offset);
    }
    let pairing: { guest: RegExp; host: RegExp } | undefined;
    if ((v['pair-guest'] === undefined) !== (v['pair-host'] === undefined))
      return usageError('analyze', 'give both --pair-guest and --pair-host');
    if (v['pair-guest'] !== undefined && v['pair-host'] !== undefined) {
      try {
        pairing = { guest: new RegExp(v['pair-guest']), host: new RegExp(v['pair-host']) };
      } catch (e) {
        return usageError('analyze', `--pair-guest/--pair-host: ${(e as Error).message}`);
      }
    }
    let barriers: number | undefined;
    if (v.barriers !== undefined) {
      if (!/^\d+$/.test(v.barriers) || Number(v.barriers) < 1)
        return usageError('analyze', `--barriers wants a whole number >= 1, got '${v.barriers}'`);
      barriers = Number(v.barriers);
    }
    let barrierMarker: RegExp | undefined;
    if (v['barrier-marker'] !== undefined) {
      try {
        barrierMarker = new RegExp(v['barrier-marker']);
      } catch (e) {
        return usageError('analyze', `--barrier-marker: ${(e as Error).message}`);
      }
    }
    if ((v['reference-host'] === undefined) !== (v['reference-guest'] === undefined))
      return usageError('analyze', 'give both --reference-host and --reference-guest');
    if (v['reference-host'] !== undefined && hostFile === undefined)
      return usageError(
        'analyze',
        '--reference-host/--reference-guest calibrate the what-if of a host + guest run; give --host',
      );
    if (v.parquet !== undefined && hostFile === undefined)
      return usageError(
        'analyze',
        '--parquet writes a host + guest run (the fleet tables are the host side); give --host',
      );
    if (v.name !== undefined && v.parquet === undefined)
      return usageError('analyze', '--name names the run of --parquet DIR');
    // The fleet's dataset code is analyze --parquet's only (info never loads it).
    const { isRunName, toRunName } = await import('../fleet/dataset');
    if (v.name !== undefined && !isRunName(v.name))
      return usageError(
        'analyze',
        `--name: '${safeText(v.name)}' is not a run name (letters, digits, . _ + -)`,
      );
    return analyzeCommand(
      hostFile,
      guestFile,
      {
        json: v.json,
        read,
        pair: {
          ...(vcpuMap !== undefined ? { vcpuMap } : {}),
          ...(offset !== undefined ? { offset } : {}),
          ...(pairing !== undefined ? { pairing } : {}),
          advice: {
            ...(barriers !== undefined ? { barriers } : {}),
            ...(barrierMarker !== undefined ? { barrierMarker } : {}),
          },
        },
        force: v.force,
        ...(v['reference-host'] !== undefined && v['reference-guest'] !== undefined
          ? { reference: { host: v['reference-host'], guest: v['reference-guest'] } }
          : {}),
        ...(v.out !== undefined ? { html: v.out } : {}),
        ...(v['chrome-trace'] !== undefined ? { chromeTrace: v['chrome-trace'] } : {}),
        ...(v.parquet !== undefined
          ? {
              parquet: {
                dir: v.parquet,
                name:
                  v.name ??
                  toRunName(path.basename(path.dirname(path.resolve(hostFile ?? guestFile)))),
              },
            }
          : {}),
      },
      io.out,
    );
  },
});

export interface AnalyzeOptions {
  json: boolean;
  read: CliReadOptions;
  pair: PairOptions;
  /** Write the standalone HTML report here. */
  html?: string;
  /** Write the merged timeline as Chrome trace-event JSON here. */
  chromeTrace?: string;
  /** Overwrite --out / --chrome-trace files that exist (otherwise refuse). */
  force?: boolean;
  /** Write the run into this fleet dataset under this name. */
  parquet?: { dir: string; name: string };
  /** A blocking run of the same program, whose work the advice's what-if reads (host + guest). */
  reference?: { host: string; guest: string };
}

export async function analyzeCommand(
  hostFile: string | undefined,
  guestFile: string,
  o: AnalyzeOptions,
  out: (s: string) => void,
): Promise<ExitCode> {
  // Before the work: an output that exists is refused unless --force.
  const clash = [o.html, o.chromeTrace].filter(
    (f): f is string => f !== undefined && existsSync(f),
  );
  if (o.parquet !== undefined) {
    try {
      await (await import('../fleet/dataset')).loadDuckDb();
    } catch (e) {
      log(`vcpu-lens analyze: ${(e as Error).message}`);
      return ExitCode.internal;
    }
  }
  if (clash.length > 0 && o.force !== true) {
    log(
      `vcpu-lens analyze: ${clash.map(safeText).join(', ')} exist${clash.length === 1 ? 's' : ''}; give --force to overwrite`,
    );
    return ExitCode.usage;
  }
  // zstd.wasm compiles on background threads while the analysis's code loads.
  compileZstdAheadFor([hostFile, guestFile].filter((f) => f !== undefined));
  // Only analyze needs these (info and dump never load them): imported when it runs.
  const [
    { buildTimelines, startTimelines },
    { analyzePair, analysisEventText },
    { analyzeReport },
    { analyzeGuestOnly },
    { ABSENCE_RECORD_HINT },
  ] = await Promise.all([
    import('../../core/timeline/build'),
    import('../../core/analyze/pair'),
    import('../../core/report/analyze'),
    import('../../core/analyze/guest-only'),
    import('../../core/correlate/absence'),
  ]);
  // Timelines are built as the parts of a big text file are joined, while the rest is read; a
  // build given up (events out of order) is dropped at once, and the whole trace built after.
  const growing: { trace: Trace; build: TimelineBuild | undefined }[] = [];
  // The reference run (host + guest) is read beside the run, files 2 and 3.
  const files =
    hostFile !== undefined
      ? [
          hostFile,
          guestFile,
          ...(o.reference !== undefined ? [o.reference.host, o.reference.guest] : []),
        ]
      : [guestFile];
  // Only the event text the analysis reads: a .dat's markers unprinted spare its kallsyms.
  const read = { ...o.read, eventText: o.read.eventText ?? analysisEventText(o.pair) };
  // A file read whole (a .dat, a small text) has its timelines built as soon as it is read,
  // while the other file may still be read on a worker.
  const whole: { trace: Trace; timelines: Timelines }[] = [];
  const loaded = (await loadTraces(
    files,
    read,
    (k, traces) => {
      const t = traces[0];
      if (t === undefined) return;
      if (growing[k]?.trace !== t)
        growing[k] = { trace: t, build: startTimelines(t, undefined, true) };
      const entry = growing[k]!;
      if (entry.build?.feed() === false) entry.build = undefined;
    },
    (k, r) => {
      const t = r.traces[0];
      if (t !== undefined && growing[k]?.trace !== t)
        whole[k] = { trace: t, timelines: buildTimelines(t) };
    },
  )) as LoadResult[];
  const [h, g] = hostFile !== undefined ? [loaded[0], loaded[1]!] : [undefined, loaded[0]!];
  let bad = false;
  for (const r of loaded) {
    for (const d of r.diagnostics) log(formatDiag(d));
    for (const t of r.traces) {
      const errors = t.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length > 0) {
        bad = true;
        log(
          `${safeText(r.path)}: ${errors.length} lines with errors (vcpu-lens info shows them); analysing the rest`,
        );
      }
    }
  }
  const host = h?.traces[0];
  const guest = g.traces[0];
  if ((h !== undefined && host === undefined) || guest === undefined) return ExitCode.noInput;
  if (loaded.some((r) => r.traces.length > 1))
    log('several traces in one file: analysing the first of each');
  // A build is the file's when it grew on the trace the read returned (not on a failed attempt).
  const built = (k: number, t: Trace): Timelines | undefined =>
    whole[k]?.trace === t
      ? whole[k].timelines
      : growing[k]?.trace === t
        ? growing[k].build?.finish()
        : undefined;
  const guestTl = built(host !== undefined ? 1 : 0, guest);
  const refHost = loaded[2]?.traces[0];
  const refGuest = loaded[3]?.traces[0];
  if (o.reference !== undefined && (refHost === undefined || refGuest === undefined))
    return ExitCode.noInput;
  // The reference's own pairing is estimated (the run's --vcpu-map, --offset are not its).
  const reference =
    o.reference !== undefined && refHost !== undefined && refGuest !== undefined
      ? {
          analysis: analyzePair(refHost, refGuest, {
            deferAdvice: true,
            timelines: { host: built(2, refHost), guest: built(3, refGuest) },
          }),
          label: `${o.reference.host} + ${o.reference.guest}`,
        }
      : undefined;
  const a =
    host !== undefined
      ? analyzePair(host, guest, {
          ...o.pair,
          ...(reference !== undefined ? { advice: { ...o.pair.advice, reference } } : {}),
          timelines: { host: built(0, host), guest: guestTl },
        })
      : analyzeGuestOnly(guest, {
          ...(guestTl !== undefined ? { timelines: guestTl } : {}),
          ...(o.pair.advice !== undefined ? { advice: o.pair.advice } : {}),
        });
  const missing = a.guestOnly?.absence.missing ?? [];
  if (missing.length > 0)
    // Not an input error: the trace is fine, it only lacks what the inference reads.
    log(
      formatDiag({
        code: DIAG.guestOnlyNoTimers,
        severity: 'warning',
        source: g.path,
        message: `no host trace and the guest trace has no ${missing.join(', ')}: nothing shows when its vCPUs were absent, so none is inferred. Record the guest with: ${ABSENCE_RECORD_HINT} (docs/guest-only.md)`,
      }),
    );
  const rep = analyzeReport(a);
  out(o.json ? JSON.stringify(rep, null, 2) : formatAnalyze(rep));
  if (o.html !== undefined || o.chromeTrace !== undefined) {
    const [{ buildTimelineModel }, { writeReportFiles }] = await Promise.all([
      import('../../core/view/model'),
      import('../html-report'),
    ]);
    const model = buildTimelineModel(a, {
      title:
        host !== undefined
          ? `${host.name} + ${guest.name}`
          : `${guest.name} (guest only, inferred)`,
    });
    const failed = writeReportFiles(model, o.html, o.chromeTrace, o.force === true);
    if (failed !== undefined) return failed;
  }
  if (o.parquet !== undefined && hostFile !== undefined) {
    const dir = path.resolve(o.parquet.dir);
    const { bar: _bar, memoryCapBytes: _cap, threads: _threads, ...read } = o.read;
    const job = {
      name: o.parquet.name,
      host: path.resolve(hostFile),
      guest: path.resolve(guestFile),
      out: dir,
    };
    const [{ fingerprint, recoverDataset }, { writeAnalysis }] = await Promise.all([
      import('../fleet/dataset'),
      import('../fleet/run-pair'),
    ]);
    recoverDataset(dir);
    const written = await writeAnalysis(
      a,
      job,
      fingerprint([job.host, job.guest], {
        read,
        pair: o.pair,
        hostFile: job.host,
        guestFile: job.guest,
      }),
    );
    if (typeof written === 'string') {
      log(`vcpu-lens analyze: --parquet: ${written}`);
      return ExitCode.noInput;
    }
    log(`${safeText(dir)}: run ${safeText(o.parquet.name)} written (${formatCount(written)} rows)`);
  }
  return bad ? ExitCode.inputErrors : ExitCode.ok;
}

export function formatAnalyze(r: AnalyzeReport): string {
  const t = (v: number): string => formatClockDuration(v, r.unit);
  const pct = (v: number, of: number): string => (of > 0 ? `${((100 * v) / of).toFixed(1)}%` : '-');
  const L: string[] = [];
  if (r.guestOnly !== undefined) return formatGuestOnly(r);
  L.push(
    `host ${safeName(r.host.name, 200)} (${r.host.format}), guest ${safeName(r.guest.name, 200)} (${r.guest.format}, ${r.guest.cpus} CPUs)`,
  );
  if (r.tscHz !== null)
    L.push(`counter clock read at ${formatCount(r.tscHz)} Hz (--tsc-hz): times in seconds`);
  if (r.unit === 'count') L.push(`note: ${TSC_RATE_HINT}`);
  L.push('');
  L.push(r.vm !== null ? `vCPU threads (${r.vm.vmm}, ${r.vm.key}):` : 'vCPU threads: none found');
  for (const v of r.vcpus)
    L.push(
      `  vCPU ${v.vcpu} = host thread ${v.hostTid} '${safeName(v.hostComm)}'  [${v.method}, confidence ${v.confidence}] ${safeText(v.evidence)}`,
    );
  for (const s of r.vcpuMapReasoning) L.push(`  - ${safeText(s)}`);
  L.push('');
  if (r.clock !== null) {
    const c = r.clock;
    const off = BigInt(c.hostRef) - BigInt(c.guestRef);
    const unit = c.unit === 'ns' ? 'ns' : 'count';
    L.push(
      `clock map (${c.method}): host - guest = ${formatClockOffset(off, unit)} at guest ${formatAbsTs(BigInt(c.guestRef), unit, 9)}, rate ${c.slope.toFixed(9)}, ± ${formatClockDuration(c.bound, unit)}`,
    );
    for (const s of c.reasoning) L.push(`  - ${safeText(s)}`);
  } else L.push('clock map: none');
  L.push('');
  if (r.vcpuTime.length > 0) {
    const span = r.window?.duration ?? r.host.span;
    const stealWidth = Math.max(8, ...r.vcpuTime.map((v) => t(v.steal).length));
    L.push(
      r.window !== null
        ? `vCPU time on the host while both traces ran (${t(span)}, from ${r.window.start}${r.unit === 'ns' ? ' s' : ''}):`
        : `vCPU time on the host (trace span ${t(span)}):`,
    );
    L.push(
      `  vCPU     running   preempted    waiting       idle        vmm    blocked ${'steal'.padStart(stealWidth)}  preemptions`,
    );
    // Not seen is not zero: without the host's sched_switch those columns say `?`.
    const seen = (x: string): string => (r.preemptionSeen ? x : '?');
    for (const v of r.vcpuTime) {
      L.push(
        `  ${String(v.vcpu).padStart(4)} ${pct(v.running, span).padStart(11)} ${seen(pct(v.preempted, span)).padStart(11)} ${seen(pct(v.waiting, span)).padStart(10)} ` +
          `${pct(v.idle, span).padStart(10)} ${pct(v.vmm, span).padStart(10)} ${pct(v.blocked, span).padStart(10)} ${seen(t(v.steal)).padStart(stealWidth)} ${seen(String(v.preemptions)).padStart(12)}`,
      );
    }
    for (const s of r.vcpuStateBasis) L.push(`  - ${safeText(s)}`);
    L.push('');
  }
  if (r.stallsByThread.length > 0) {
    L.push(
      'guest threads that lost time to their vCPU not running (preempted or waiting for a host CPU):',
    );
    const lostWidth = Math.max(...r.stallsByThread.slice(0, 10).map((s) => t(s.lost).length));
    for (const s of r.stallsByThread.slice(0, 10)) {
      L.push(
        `  ${String(s.pid).padStart(7)} ${safeName(s.comm).padEnd(16)} ${t(s.lost).padStart(lostWidth)} in ${s.episodes} episodes (${t(s.lostPreempted)} preempted)`,
      );
    }
    L.push('');
  }
  if (r.preemptors.length > 0) {
    L.push('host tasks that preempted vCPUs:');
    const tookWidth = Math.max(...r.preemptors.slice(0, 10).map((p) => t(p.took).length));
    for (const p of r.preemptors.slice(0, 10))
      L.push(
        `  ${String(p.pid).padStart(7)} ${safeName(p.comm).padEnd(16)} ${t(p.took).padStart(tookWidth)} in ${p.episodes} episodes`,
      );
    L.push('');
  }
  if (r.findings.length > 0) {
    L.push('findings:');
    for (const f of r.findings) L.push(`  [${f.severity}] ${f.kind}: ${safeText(f.message)}`);
    L.push('');
  }
  if (r.program !== null)
    L.push(
      `program: ${safeName(r.program.comm)} (${r.program.pids.length} threads): ${safeText(r.program.why)}`,
    );
  if (r.advice !== null) L.push(...formatAdvice(r.advice), '');
  for (const s of r.reasoning) L.push(`note: ${safeText(s)}`);
  return L.join('\n');
}

/** A guest trace analysed alone: the inferred absences first, then the pair mode's sections, each marked inferred. */
function formatGuestOnly(r: AnalyzeReport): string {
  const go = r.guestOnly!;
  const t = (v: number): string => formatClockDuration(v, r.unit);
  const pct = (v: number, of: number): string => (of > 0 ? `${((100 * v) / of).toFixed(1)}%` : '-');
  const L: string[] = [];
  L.push(
    `guest ${safeName(r.guest.name, 200)} (${r.guest.format}, ${r.guest.cpus} CPUs), no host trace: GUEST-ONLY, everything below is INFERRED from the guest trace`,
  );
  L.push('');
  if (go.missingEvents.length > 0) {
    L.push(
      `nothing to infer from: the guest trace has no ${go.missingEvents.join(', ')}. Record it with:`,
      `  ${go.recordHint}`,
    );
    return L.join('\n');
  }
  const span = r.window?.duration ?? r.guest.span;
  L.push(
    `vCPU absence (inferred: the host not running the vCPU while the guest had work), over ${t(span)}:`,
  );
  L.push('  vCPU     absent   of span   sure part  intervals   busy (guest)');
  for (const p of go.perVcpu)
    L.push(
      `  ${String(p.vcpu).padStart(4)} ${t(p.absent).padStart(10)} ${pct(p.absent, span).padStart(9)} ${pct(p.sure, p.absent).padStart(11)} ${String(p.intervals).padStart(10)} ${t(p.busy).padStart(14)}`,
    );
  L.push(`  host CPUs the VM got (estimated): ${go.hostCpus.value}`);
  for (const s of go.basis) L.push(`  - ${safeText(s)}`);
  L.push('');
  const longest = [...go.intervals].sort((a, b) => b.duration - a.duration).slice(0, 10);
  if (longest.length > 0) {
    L.push('longest inferred absences:');
    for (const x of longest)
      L.push(
        `  vCPU ${x.vcpu} ${x.start} +${t(x.duration)}  ${x.evidence}, confidence ${x.confidence.toFixed(2)} (${x.earliest === x.latest ? 'start known: an idle CPU given work then' : `began between ${x.earliest} and ${x.latest}`})`,
      );
    L.push('');
  }
  if (r.stallsByThread.length > 0) {
    L.push('guest threads that lost time to their vCPU being absent (inferred):');
    const top = r.stallsByThread.slice(0, 10);
    const w = Math.max(...top.map((s) => t(s.lost).length));
    for (const s of top)
      L.push(
        `  ${String(s.pid).padStart(7)} ${safeName(s.comm).padEnd(16)} ${t(s.lost).padStart(w)} in ${s.episodes} episodes`,
      );
    L.push('');
  }
  if (r.findings.length > 0) {
    L.push(
      'findings (inferred: "host CPUs" are the estimate, "preempted or waiting" is inferred absence):',
    );
    for (const f of r.findings) L.push(`  [${f.severity}] ${f.kind}: ${safeText(f.message)}`);
    L.push('');
  }
  if (r.program !== null)
    L.push(
      `program: ${safeName(r.program.comm)} (${r.program.pids.length} threads): ${safeText(r.program.why)}`,
    );
  if (r.advice !== null) {
    const [head, ...rest] = formatAdvice(r.advice);
    L.push(`${head!} (inferred)`, ...rest, '');
  }
  for (const s of r.reasoning) L.push(`note: ${safeText(s)}`);
  return L.join('\n');
}

const POLICY_ENV: Record<string, string> = {
  spin: 'OMP_WAIT_POLICY=active',
  block: 'OMP_WAIT_POLICY=passive',
  'spin-then-block': 'GOMP_SPINCOUNT (spin, then block)',
};

/** The advice: the headline, the what-if's candidates as a table, then the reasoning. */
function formatAdvice(a: NonNullable<AnalyzeReport['advice']>): string[] {
  const L: string[] = [];
  L.push(
    `advice: OMP_NUM_THREADS=${a.dop} (ran ${a.threads}), OMP_WAIT_POLICY=${a.waitPolicy === 'active' ? 'active' : 'passive'}` +
      `${a.spinCount !== undefined ? ` with GOMP_SPINCOUNT=${a.spinCount} (spin, then block)` : ''}; predicted ${a.predictedSpeedup.toFixed(a.predictedSpeedup >= 10 ? 0 : 2)}x` +
      (a.predictedSpeedupRange !== undefined
        ? ` (${a.predictedSpeedupRange.low.toFixed(1)}-${a.predictedSpeedupRange.high.toFixed(1)}x)`
        : '') +
      `; pvsched rule: ${a.pvschedDop}`,
  );
  if (a.candidates !== undefined) {
    L.push('  what-if (predicted wall time of the whole run, range the traces allow):');
    const mark = (c: { threads: number; policy: string }): string =>
      [
        a.chosen !== undefined && a.chosen.threads === c.threads && a.chosen.policy === c.policy
          ? 'chosen'
          : '',
        a.measured !== undefined &&
        a.measured.threads === c.threads &&
        a.measured.policy === c.policy
          ? 'traced'
          : '',
        a.pvsched !== undefined && a.pvsched.threads === c.threads && a.pvsched.policy === c.policy
          ? 'pvsched rule'
          : '',
      ]
        .filter((x) => x !== '')
        .join(', ');
    // Code-point order of the policy keywords: localeCompare would load ICU's collation.
    for (const c of [...a.candidates].sort(
      (x, y) => x.threads - y.threads || (x.policy < y.policy ? -1 : x.policy > y.policy ? 1 : 0),
    ))
      L.push(
        `  ${String(c.threads).padStart(3)} ${(POLICY_ENV[c.policy] ?? c.policy).padEnd(34)} ${formatDuration(c.predictedWallNs).padStart(10)}  (${formatDuration(c.low)}-${formatDuration(c.high)})${mark(c) !== '' ? `  <- ${mark(c)}` : ''}`,
      );
  }
  for (const s of a.reasoning) L.push(`  - ${safeText(s)}`);
  return L;
}
