// Finding pair folders (host.* + guest.*) under a folder, as Analyze Folder of Traces… does.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPairFolders, pickPairFile } from '../../src/core/io/pair-folder';

function tree(files: string[]): string {
  const root = mkdtempSync(path.join(tmpdir(), 'vl-pairs-'));
  for (const f of files) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), '');
  }
  return root;
}

describe('pair folders', () => {
  it('are the folders holding both a host.* and a guest.* file, in path order, the root too', () => {
    const root = tree([
      'host.txt',
      'guest.txt',
      'b/run2/host.dat',
      'b/run2/guest.txt.gz',
      'a/run1/host.txt.gz',
      'a/run1/host.dat',
      'a/run1/guest.dat',
      'c/only-host/host.txt',
    ]);
    const found = findPairFolders(root).map((f) => [
      path.relative(root, f.dir),
      path.basename(f.host),
      path.basename(f.guest),
    ]);
    expect(found).toEqual([
      ['', 'host.txt', 'guest.txt'],
      ['a/run1', 'host.dat', 'guest.dat'],
      ['b/run2', 'host.dat', 'guest.txt.gz'],
    ]);
  });

  it('skip hidden folders, node_modules and folders past the depth', () => {
    const root = tree([
      '.git/x/host.txt',
      '.git/x/guest.txt',
      'node_modules/p/host.txt',
      'node_modules/p/guest.txt',
      'd1/d2/d3/host.txt',
      'd1/d2/d3/guest.txt',
    ]);
    expect(findPairFolders(root).map((f) => path.relative(root, f.dir))).toEqual(['d1/d2/d3']);
    expect(findPairFolders(root, { maxDepth: 2 })).toEqual([]);
  });

  it('a folder named host.* is not a trace', () => {
    const root = tree(['guest.txt', 'host.d/x']);
    expect(findPairFolders(root)).toEqual([]);
    expect(pickPairFile(['host.perf-sched.txt.gz', 'host.txt.gz'], 'host')).toBe('host.txt.gz');
  });
});
