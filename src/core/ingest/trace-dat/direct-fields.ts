// Which fields of a scheduler event the .dat decoder reads straight from the record (by role),
// worked out once per event type from its format; other events are printed from their print fmt.

import { Kind } from '../../model/event-kinds';
import type { EventFormat, Field } from './format';

/**
 * The fields by role, null when the kind has no such field. A class, every field set in its
 * constructor: one shape for every kind, so the decoder's reads of them stay monomorphic (object
 * literals of different keys were as many maps, and the decoder's `direct` deoptimised on each).
 */
export class DirectFields {
  comm: Field | null = null;
  pid: Field | null = null;
  prio: Field | null = null;
  target: Field | null = null;
  state: Field | null = null;
  nextComm: Field | null = null;
  nextPid: Field | null = null;
  nextPrio: Field | null = null;
  origCpu: Field | null = null;
  destCpu: Field | null = null;
  groupDead: Field | null = null;
  success: Field | null = null;
  runtime: Field | null = null;
  vruntime: Field | null = null;
}

type Roles = { [K in keyof DirectFields]?: Field | undefined };

/** A DirectFields with these roles set (the others null). */
function roles(r: Roles): DirectFields {
  const d = new DirectFields();
  for (const k of Object.keys(r) as (keyof DirectFields)[]) d[k] = r[k] ?? null;
  return d;
}

function need(fmt: EventFormat, names: string[]): Field[] | undefined {
  const out: Field[] = [];
  for (const n of names) {
    const f = fmt.byName.get(n);
    if (f === undefined) return undefined;
    out.push(f);
  }
  return out;
}

/** The fields the kernel's print fmt would print for this kind, when they are all there. */
export function directFields(kind: Kind, fmt: EventFormat): DirectFields | undefined {
  const isComm = (f: Field | null): boolean => f !== null && f.isString && f.arrayLen > 0;
  let d: DirectFields | undefined;
  switch (kind) {
    case Kind.schedSwitch: {
      const f = need(fmt, [
        'prev_comm',
        'prev_pid',
        'prev_prio',
        'prev_state',
        'next_comm',
        'next_pid',
        'next_prio',
      ]);
      if (f)
        d = roles({
          comm: f[0]!,
          pid: f[1]!,
          prio: f[2]!,
          state: f[3]!,
          nextComm: f[4]!,
          nextPid: f[5]!,
          nextPrio: f[6]!,
        });
      if (d && !isComm(d.nextComm)) return undefined;
      break;
    }
    case Kind.schedWakeup:
    case Kind.schedWakeupNew: {
      // The sched plugin prints ` success=N` when the format has the field (kernels < 4.15);
      // the model keeps `success=1` with a target CPU (other values print from the text).
      const f = need(fmt, ['comm', 'pid', 'prio']);
      const success = fmt.byName.get('success');
      const target = fmt.byName.get('target_cpu');
      if (f && (success === undefined || target !== undefined))
        d = roles({
          comm: f[0]!,
          pid: f[1]!,
          prio: f[2]!,
          target,
          success,
        });
      break;
    }
    case Kind.schedWaking: {
      const f = need(fmt, ['comm', 'pid', 'prio', 'target_cpu']);
      if (f && /^"comm=%s pid=%d prio=%d target_cpu=%03d"/.test(fmt.printText))
        d = roles({ comm: f[0]!, pid: f[1]!, prio: f[2]!, target: f[3]! });
      break;
    }
    case Kind.schedMigrateTask: {
      const f = need(fmt, ['comm', 'pid', 'prio', 'orig_cpu', 'dest_cpu']);
      if (f && /^"comm=%s pid=%d prio=%d orig_cpu=%d dest_cpu=%d"/.test(fmt.printText))
        d = roles({ comm: f[0]!, pid: f[1]!, prio: f[2]!, origCpu: f[3]!, destCpu: f[4]! });
      break;
    }
    case Kind.schedProcessFork: {
      const f = need(fmt, ['parent_comm', 'parent_pid', 'child_comm', 'child_pid']);
      if (f && /^"comm=%s pid=%d child_comm=%s child_pid=%d"/.test(fmt.printText))
        d = roles({ comm: f[0]!, pid: f[1]!, nextComm: f[2]!, nextPid: f[3]! });
      break;
    }
    case Kind.schedProcessExit:
    case Kind.schedProcessFree:
    case Kind.schedProcessWait: {
      const f = need(fmt, ['comm', 'pid', 'prio']);
      const gd = fmt.byName.get('group_dead');
      const shape = gd
        ? /^"comm=%s pid=%d prio=%d group_dead=%s", REC->comm, REC->pid, REC->prio, REC->group_dead \? "true" : "false"$/
        : /^"comm=%s pid=%d prio=%d", REC->comm, REC->pid, REC->prio$/;
      if (f && shape.test(fmt.printText))
        d = roles({ comm: f[0]!, pid: f[1]!, prio: f[2]!, groupDead: gd });
      break;
    }
    case Kind.schedStatRuntime: {
      const f = need(fmt, ['comm', 'pid', 'runtime']);
      const v = fmt.byName.get('vruntime');
      const shape = v
        ? /^"comm=%s pid=%d runtime=%Lu \[ns\] vruntime=%Lu \[ns\]"/
        : /^"comm=%s pid=%d runtime=%Lu \[ns\]"/;
      if (f && shape.test(fmt.printText))
        d = roles({ comm: f[0]!, pid: f[1]!, runtime: f[2]!, vruntime: v });
      break;
    }
    default:
      return undefined;
  }
  if (d === undefined) return undefined;
  // sched_migrate_task's comm is a `__data_loc char[]` on newer kernels (`__get_str(comm)`).
  const dynamicComm =
    kind === Kind.schedMigrateTask && d.comm?.isString === true && d.comm.dynamic !== 'none';
  if (!isComm(d.comm) && !dynamicComm) return undefined;
  return d;
}
