// Builds core's element trees (core/report/vnode.ts) into the DOM: SVG elements in the SVG
// namespace, text always as text nodes, no event-handler attributes.

import type { VNode } from '../../src/core/report/vnode';

const SVG_NS = 'http://www.w3.org/2000/svg';

export function build(doc: Document, n: VNode | string, inSvg = false): Node {
  if (typeof n === 'string') return doc.createTextNode(n);
  const svg = inSvg || n.tag === 'svg';
  const el = svg ? doc.createElementNS(SVG_NS, n.tag) : doc.createElement(n.tag);
  for (const [k, v] of Object.entries(n.attrs ?? {}))
    if (!/^on/i.test(k) && k !== 'xmlns') el.setAttribute(k, String(v));
  for (const c of n.children ?? []) el.appendChild(build(doc, c, svg));
  return el;
}
