// Types of conformance-lib.mjs for the vitest test that runs the same comparison.
export interface Row {
  file: string;
  oracle: string;
  lines: number;
  mismatched: number;
  first?: string;
}
export interface Tool {
  name: '3.1' | '3.3';
  bin: string;
}
export const SCHED: readonly string[];
export const ROOT: string;
export const REAL: string;
export const PEER: string;
export const CLI: string;
export const TC31: string;
export const TC33: string;
export function datFiles(): string[];
export function textFiles(): string[];
export function rel(f: string): string;
export function haveTool(bin: string): boolean;
export function tools(): Tool[];
export function oracle(file: string, tools: Tool[]): { tool: string; text: string } | undefined;
export function normalize33(text: string, table?: string): string;
export function stateTable(bin: string, file: string): string;
export function dump(file: string): { text: string; status: number | null; stderr: string };
export function compareText(want: string, got: string): Omit<Row, 'file' | 'oracle'>;
export function convertVariants(dir: string): { file: string; label: string }[];
export function checkDat(file: string, label: string, tools: Tool[]): Row;
export function checkText(file: string): Row;
export function tmpDir(): string;
export function removeDir(dir: string): void;
export function isBuilt(): boolean;
