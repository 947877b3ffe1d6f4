// Simulated traces as read-only documents in their own place, `vcpu-lens-sim:`, named for the run
// ("simulated: small spin-preempted · host.txt"): never written to the workspace or to storage, so
// they cannot be taken for the user's files, and Problems shows that name instead of a path.

import * as vscode from 'vscode';

export const SIM_SCHEME = 'vcpu-lens-sim';

/** The URI of a simulated trace: `vcpu-lens-sim:/simulated: small spin-preempted · host.txt`. */
export function simTraceUri(run: string, side: 'host' | 'guest'): vscode.Uri {
  return vscode.Uri.from({ scheme: SIM_SCHEME, path: `/simulated: ${run} · ${side}.txt` });
}

/** The files, in memory, for as long as the window lives (a run again replaces its own). */
export class SimulatedTraces implements vscode.FileSystemProvider {
  private readonly files = new Map<string, { data: Uint8Array; mtime: number }>();
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  /** Puts (or replaces) a trace; says so to whoever has it open. */
  set(uri: vscode.Uri, text: string): void {
    const had = this.files.has(uri.path);
    this.files.set(uri.path, { data: new TextEncoder().encode(text), mtime: Date.now() });
    this.changed.fire([
      { type: had ? vscode.FileChangeType.Changed : vscode.FileChangeType.Created, uri },
    ]);
  }

  has(uri: vscode.Uri): boolean {
    return this.files.has(uri.path);
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    if (uri.path === '/') return { type: vscode.FileType.Directory, ctime: 0, mtime: 0, size: 0 };
    const f = this.files.get(uri.path);
    if (f === undefined) throw vscode.FileSystemError.FileNotFound(uri);
    return {
      type: vscode.FileType.File,
      ctime: f.mtime,
      mtime: f.mtime,
      size: f.data.byteLength,
      permissions: vscode.FilePermission.Readonly,
    };
  }

  readFile(uri: vscode.Uri): Uint8Array {
    const f = this.files.get(uri.path);
    if (f === undefined) throw vscode.FileSystemError.FileNotFound(uri);
    return f.data;
  }

  readDirectory(uri: vscode.Uri): [string, vscode.FileType][] {
    if (uri.path !== '/') throw vscode.FileSystemError.FileNotADirectory(uri);
    return [...this.files.keys()].map((p) => [p.slice(1), vscode.FileType.File]);
  }

  watch(): vscode.Disposable {
    return new vscode.Disposable(() => {});
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }
}
