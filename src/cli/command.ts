// What a `vcpu-lens` command is: a name, a one-line summary, its own options (node:util parseArgs
// shapes plus a help line each) and `run`. main.ts lists the commands; parsing, usage errors and
// every help text are derived from these declarations, so a command cannot take another's options.

import { parseArgs } from 'node:util';
import { ExitCode } from './exit-codes';
import { log } from './terminal';

/** One option: what parseArgs takes, plus its help line and the name of its value in help. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  /** The value's placeholder in help (`N`, `FILE`); string options only. */
  arg?: string;
  /** One line of help (wrapped when printed). */
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

/** Parsed option values: string or boolean; undefined when not given and without a default. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]: ValueOf<O[K]['type']> | OptionalIfNoDefault<O[K]>;
};
type ValueOf<T> = T extends 'boolean' ? boolean : string;
type OptionalIfNoDefault<S> = S extends { default: string | boolean } ? never : undefined;

/** Where a command prints: `out` adds a newline per call; `write` is raw (for `dump`). */
export interface CommandIo {
  out: (s: string) => void;
  write: (s: string) => void;
}

export interface Command<O extends OptionSpecs = OptionSpecs> {
  name: string;
  /** One line, for the global help. */
  summary: string;
  /** What follows `vcpu-lens NAME` in the usage line, e.g. `FILE [--json]` (wrapped when printed). */
  usage: string;
  /** More about the command, for its own `--help` (may be several lines). */
  details?: string;
  options: O;
  run(values: OptionValues<O>, positionals: string[], io: CommandIo): Promise<ExitCode> | ExitCode;
}

/** Declares a command; infers its options' types so `run` sees them typed. */
export function defineCommand<O extends OptionSpecs>(c: Command<O>): Command<O> {
  return c;
}

/** Every command takes this (and only this) besides its own options. */
export const HELP_OPTION = {
  help: { type: 'boolean', short: 'h', default: false, help: 'print this help' },
} as const satisfies OptionSpecs;

/** A command's options with --help, as parseArgs takes them. */
function parseConfig(
  c: Command,
): Record<string, { type: 'string' | 'boolean'; short?: string; default?: string | boolean }> {
  const all: OptionSpecs = { ...c.options, ...HELP_OPTION };
  return Object.fromEntries(
    Object.entries(all).map(([k, s]) => [
      k,
      {
        type: s.type,
        ...(s.short !== undefined ? { short: s.short } : {}),
        ...(s.default !== undefined ? { default: s.default } : {}),
      },
    ]),
  );
}

export type ParsedCommandLine =
  | { ok: true; values: Record<string, string | boolean | undefined>; positionals: string[] }
  | { ok: false; message: string };

/**
 * Parses a command's arguments against its own options only. `before`: arguments given before
 * the command's name (`vcpu-lens --json info F`); they may only be options and their values.
 * `others`: every command, to say whose option a stray one is.
 */
export function parseCommandLine(
  c: Command,
  before: string[],
  after: string[],
  others: readonly Command[],
): ParsedCommandLine {
  const options = parseConfig(c);
  const args = [...before, ...after];
  try {
    const { values, positionals, tokens } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    for (const t of tokens) {
      if (t.index >= before.length) break;
      const last =
        t.kind === 'option' && t.value !== undefined && !t.inlineValue ? t.index + 1 : t.index;
      if (t.kind !== 'option' || last >= before.length)
        return {
          ok: false,
          message: `give the command first: vcpu-lens ${c.name} [options] (only its options may come before it)`,
        };
    }
    return { ok: true, values, positionals };
  } catch (e) {
    // Name the stray option, and whose it is when it belongs to another command.
    const { tokens } = parseArgs({
      args,
      options,
      allowPositionals: true,
      strict: false,
      tokens: true,
    });
    const stray = tokens.find((t) => t.kind === 'option' && !Object.hasOwn(options, t.name));
    if (stray?.kind !== 'option') return { ok: false, message: (e as Error).message };
    const owners = others
      .filter((o) => o !== c && Object.hasOwn(o.options, stray.name))
      .map((o) => o.name);
    return {
      ok: false,
      message: `${stray.rawName} is not an option of ${c.name}${owners.length > 0 ? ` (it is ${owners.join(' and ')}'s)` : ''}`,
    };
  }
}

/** The help column of options: `--name ARG` or `-h, --help`. */
function optionLabel(name: string, s: OptionSpec): string {
  const long = `--${name}${s.type === 'string' ? ` ${s.arg ?? 'VALUE'}` : ''}`;
  return s.short !== undefined ? `-${s.short}, ${long}` : long;
}

/** `vcpu-lens NAME --help`: usage, details and the command's own options. */
export function commandHelp(c: Command): string {
  const all: OptionSpecs = { ...c.options, ...HELP_OPTION };
  const labels = Object.entries(all).map(([k, s]) => [optionLabel(k, s), s.help] as const);
  const width = Math.min(24, Math.max(...labels.map(([l]) => l.length))) + 2;
  const lines = [...usageLines(`Usage: vcpu-lens ${c.name} `, c.usage), '', c.summary];
  if (c.details !== undefined) lines.push('', c.details);
  lines.push('', 'Options:');
  for (const [label, help] of labels) {
    const text = wrap(help, 100 - 2 - width);
    if (label.length + 2 > width)
      lines.push(`  ${label}`, ...text.map((t) => ' '.repeat(width + 2) + t));
    else
      lines.push(
        `  ${label.padEnd(width)}${text[0]}`,
        ...text.slice(1).map((t) => ' '.repeat(width + 2) + t),
      );
  }
  return lines.join('\n');
}

/** Words into lines of at most `width` characters (a longer word gets its own line). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter((x) => x !== '')) {
    if (line !== '' && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  lines.push(line);
  return lines;
}

/** A usage error of command `name`: says what is wrong on stderr, returns ExitCode.usage. */
export function usageError(name: string, message: string): ExitCode {
  log(`vcpu-lens ${name}: ${message}`);
  return ExitCode.usage;
}

/**
 * `prefix` + the usage, wrapped at 100 columns between its top-level words and `[...]` groups,
 * continuation lines indented under the first argument.
 */
export function usageLines(prefix: string, usage: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of usage) {
    if (/\s/.test(ch) && depth === 0) {
      if (cur !== '') parts.push(cur);
      cur = '';
      continue;
    }
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    cur += ch;
  }
  if (cur !== '') parts.push(cur);
  const indent = ' '.repeat(prefix.length);
  const lines: string[] = [];
  let line = prefix;
  for (const p of parts) {
    if (line.length > indent.length && line.length + p.length > 100) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += `${p} `;
  }
  lines.push(line.trimEnd());
  return lines;
}
