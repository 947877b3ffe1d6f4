// Types of extension-split.mjs for its vitest test.
export interface Step {
  label: string;
  at: number;
}
export interface Split {
  steps: Step[];
  from: 'activation' | 'click';
  goalMs: number | undefined;
  oursMs: number | undefined;
  /** Our part ended with the model read from the timeline cache (a returning user). */
  fromCache: boolean;
}
export interface Mark {
  name: string;
  at: number;
}
export interface BlankSplit {
  steps: Step[];
  label: string;
  loadMs: number;
}
export function firstPaintSplit(
  lines: [number, string][],
  page: {
    clickAt: number;
    firstFrameAt?: number;
    tilesAt?: number;
    webview?: {
      outerAt?: number;
      innerAt?: number;
      marks?: Mark[];
      resources?: { name: string; at: number }[];
    };
  },
): Split;
export function splitTable(split: Split, blank?: BlankSplit): string;
export function blankSplit(
  blank: {
    createdAt: number;
    outerAt?: number;
    marks?: Mark[];
    innerAt?: number;
    paintedAt: number;
  },
  label: string,
): BlankSplit;
export function blankTable(blanks: BlankSplit[]): string;
