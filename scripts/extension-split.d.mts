// Types of extension-split.mjs for its vitest test.
export interface Step {
  label: string;
  at: number;
}
export interface Split {
  steps: Step[];
  from: 'activation' | 'click';
  goalMs: number | undefined;
}
export function firstPaintSplit(
  lines: [number, string][],
  page: {
    clickAt: number;
    firstFrameAt?: number;
    tilesAt?: number;
    webview?: { outerAt?: number; innerAt?: number; resources?: { name: string; at: number }[] };
  },
): Split;
export function splitTable(split: Split): string;
