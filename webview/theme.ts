// The theme's colours, read from the CSS variables (VS Code's theme, or the report's light/dark
// fallbacks), each state colour also resolved once to canvas pixels.

import { VIEW_STATE_NAMES, ViewState } from '../src/core/view/states';
import type { Theme } from './track';

export function readTheme(doc: Document): Theme {
  const cs = getComputedStyle(doc.body);
  const v = (n: string, d: string): string => cs.getPropertyValue(n).trim() || d;
  const states = VIEW_STATE_NAMES.map((n) => cs.getPropertyValue(`--vl-s-${n}`).trim());
  // Resolve each colour to pixels once: paint it on a 1x1 canvas and read it back.
  const probe = doc.createElement('canvas');
  probe.width = probe.height = 1;
  const pc = probe.getContext('2d', { willReadFrequently: true })!;
  const rgba = new Uint32Array(256);
  states.forEach((c, st) => {
    if (c === '' || c === 'transparent' || st === ViewState.idle) return;
    pc.clearRect(0, 0, 1, 1);
    pc.fillStyle = c;
    pc.fillRect(0, 0, 1, 1);
    const d = pc.getImageData(0, 0, 1, 1).data;
    rgba[st] = ((d[3]! << 24) | (d[2]! << 16) | (d[1]! << 8) | d[0]!) >>> 0;
  });
  for (const sw of doc.querySelectorAll<HTMLElement>('.vl-swatch')) {
    const st = Number(sw.dataset['state']);
    const c = states[st] ?? '';
    sw.style.background =
      c === 'transparent' || c === ''
        ? 'none'
        : st === ViewState.absent
          ? // Inferred: hatched, as the lanes draw it.
            `repeating-linear-gradient(135deg, ${c} 0 2px, transparent 2px 4px)`
          : c;
  }
  return {
    states,
    rgba,
    highlight: v('--vl-highlight', '#000'),
    fg: v('--vl-fg', '#000'),
    muted: v('--vl-muted', '#666'),
    border: v('--vl-border', '#ccc'),
    bg: v('--vl-bg', '#fff'),
  };
}
