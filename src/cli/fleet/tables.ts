// The fleet dataset's tables (docs/fleet.md, schema `vcpu-lens.fleet/1`): their columns once, and
// one analysed pair turned into their rows. Times are ns on the host's clock (absolute, as the
// host trace printed them); `run` is not stored in the files but in the partition path
// (`run=<name>`), where DuckDB, Spark and Trino all read it from.

import type { FindingKind, PairAnalysis } from '../../core/analyze/types';
import { VcpuState } from '../../core/correlate/vcpu-states';

export const FLEET_SCHEMA = 'vcpu-lens.fleet/1';

export type ColumnType = 'VARCHAR' | 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'TIMESTAMP';
export type Cell = string | number | bigint | Date | null;

/** Each table's columns in order (after `run`), with their SQL types. */
export const TABLES = {
  runs: {
    host_file: 'VARCHAR',
    guest_file: 'VARCHAR',
    host_format: 'VARCHAR',
    guest_format: 'VARCHAR',
    host_clock: 'VARCHAR',
    guest_clock: 'VARCHAR',
    clock_method: 'VARCHAR',
    offset_ns: 'BIGINT',
    bound_ns: 'DOUBLE',
    drift_ppm: 'DOUBLE',
    vcpus: 'INTEGER',
    program: 'VARCHAR',
    threads: 'INTEGER',
    advice_threads: 'INTEGER',
    advice_wait_policy: 'VARCHAR',
    predicted_speedup: 'DOUBLE',
    analyzed_at: 'TIMESTAMP',
    tool_version: 'VARCHAR',
  },
  vcpu_states: {
    vcpu: 'INTEGER',
    host_tid: 'INTEGER',
    state: 'VARCHAR',
    start_ns: 'BIGINT',
    end_ns: 'BIGINT',
  },
  stalls: {
    guest_tid: 'INTEGER',
    guest_comm: 'VARCHAR',
    vcpu: 'INTEGER',
    host_cpu: 'INTEGER',
    preemptor_tid: 'INTEGER',
    preemptor_comm: 'VARCHAR',
    start_ns: 'BIGINT',
    end_ns: 'BIGINT',
  },
  findings: {
    kind: 'VARCHAR',
    severity: 'VARCHAR',
    start_ns: 'BIGINT',
    end_ns: 'BIGINT',
    cost_ns: 'DOUBLE',
    message: 'VARCHAR',
  },
  preemptors: {
    host_tid: 'INTEGER',
    comm: 'VARCHAR',
    episodes: 'INTEGER',
    total_ns: 'DOUBLE',
  },
} as const satisfies Record<string, Record<string, ColumnType>>;

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** A table's rows as columns: one array per column, in TABLES' order. */
export type TableColumns = Cell[][];
export type RunTables = Record<TableName, TableColumns>;

/**
 * The state names in the tables: the timeline's, with `halted` called `idle` as `analyze --json`
 * calls it (the vCPU halted because its guest CPU was idle).
 */
const STATE_NAME: Record<VcpuState, string> = {
  [VcpuState.running]: 'running',
  [VcpuState.preempted]: 'preempted',
  [VcpuState.waiting]: 'waiting',
  [VcpuState.halted]: 'idle',
  [VcpuState.vmm]: 'vmm',
  [VcpuState.blocked]: 'blocked',
  [VcpuState.unknown]: 'unknown',
};

/** The evidence entry each finding measures its cost by (host time, the host's unit). */
const COST_OF: Record<FindingKind, string> = {
  oversubscription: 'overTime',
  'spin-on-preempted-vcpu': 'spinWaste',
  'barrier-straggler-preempted': 'stragglerTime',
  'wakeup-delayed-by-preemption': 'delayed',
  'preempted-in-interrupt': 'lost',
};

export interface RunInfo {
  hostFile: string;
  guestFile: string;
  analyzedAt: Date;
  toolVersion: string;
}

/**
 * One pair's rows, or why it has none: a host clock that counts ticks at no known rate has no ns
 * to give (the CLI's --tsc-hz converts it).
 */
export function runTables(a: PairAnalysis, info: RunInfo): RunTables | string {
  if (a.host.clock.unit !== 'ns')
    return `the host trace's clock (${a.host.clock.name}) counts ticks, not ns: give its rate with --tsc-hz`;
  const base = a.host.tsBase;
  const ns = (rel: number): bigint => base + BigInt(Math.round(rel));
  const table = (t: TableName): TableColumns => Object.keys(TABLES[t]).map(() => []);
  const out: RunTables = {
    runs: table('runs'),
    vcpu_states: table('vcpu_states'),
    stalls: table('stalls'),
    findings: table('findings'),
    preemptors: table('preemptors'),
  };
  const push = (cols: TableColumns, ...row: Cell[]): void => {
    for (let k = 0; k < row.length; k++) cols[k]!.push(row[k]!);
  };
  const c = a.clock;
  const adv = a.advice;
  push(
    out.runs,
    info.hostFile,
    info.guestFile,
    a.host.format,
    a.guest.format,
    a.host.clock.name,
    a.guest.clock.name,
    c?.method ?? null,
    c !== undefined ? c.hostRef - c.guestRef : null,
    c?.bound ?? null,
    c !== undefined ? (c.slope - 1) * 1e6 : null,
    a.vcpuMap.chosen?.vcpus.length ?? 0,
    a.program?.comm ?? null,
    a.program?.pids.length ?? null,
    adv?.dop ?? null,
    adv?.waitPolicy ?? null,
    adv?.predictedSpeedup ?? null,
    info.analyzedAt,
    info.toolVersion,
  );
  // The states inside the window both traces cover, as analyze's vCPU totals count them.
  const w = a.window;
  for (const tl of a.states?.timelines ?? []) {
    for (let j = 0; j < tl.state.length; j++) {
      let from = tl.start[j]!;
      let to = tl.end[j]!;
      if (w !== undefined) {
        from = Math.max(from, w.start);
        to = Math.min(to, w.end);
      }
      if (!(to > from)) continue;
      push(
        out.vcpu_states,
        tl.vcpu,
        tl.hostTid,
        STATE_NAME[tl.state[j] as VcpuState],
        ns(from),
        ns(to),
      );
    }
  }
  const st = a.stalls?.stalls;
  for (let i = 0; st !== undefined && i < st.length; i++) {
    const guestPid = st.guestPid[i]!;
    const preemptorPid = st.preemptorPid[i]!;
    push(
      out.stalls,
      guestPid >= 0 ? guestPid : null,
      guestPid >= 0 ? st.comms[st.guestComm[i]!]! : null,
      st.vcpu[i]!,
      st.pcpu[i]! >= 0 ? st.pcpu[i]! : null,
      preemptorPid >= 0 ? preemptorPid : null,
      preemptorPid >= 0 ? st.comms[st.preemptorComm[i]!]! : null,
      ns(st.hostStart[i]!),
      ns(st.hostEnd[i]!),
    );
  }
  for (const f of a.findings) {
    const cost = f.evidence[COST_OF[f.kind]];
    push(
      out.findings,
      f.kind,
      f.severity,
      ns(f.start),
      ns(f.end),
      typeof cost === 'number' ? cost : null,
      f.message,
    );
  }
  for (const p of a.stalls?.byPreemptor ?? [])
    push(out.preemptors, p.pid, p.comm, p.episodes, p.took);
  return out;
}
