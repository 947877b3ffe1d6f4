// A small element tree for views drawn in two places: serialised to text here (the CLI's HTML
// files) and built into the DOM with createElement/createElementNS by the webview. Text children
// are always text (escaped here, text nodes there), never markup.

/** An element: its tag, attributes and children (elements or text). */
export interface VNode {
  tag: string;
  attrs?: Record<string, string | number>;
  children?: (VNode | string)[];
}

/** Shorthand for a VNode. */
export function h(
  tag: string,
  attrs: Record<string, string | number | undefined> = {},
  children: (VNode | string | undefined | false)[] = [],
): VNode {
  const a: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) a[k] = v;
  const kids = children.filter((c): c is VNode | string => c !== undefined && c !== false);
  return { tag, attrs: a, children: kids };
}

const TEXT_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text safe as element content or as a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => TEXT_ESCAPES[c]!);
}

const VOID = new Set(['br', 'hr', 'img', 'input', 'meta', 'link', 'col']);
const NAME = /^[a-zA-Z][\w:-]*$/;

/** The tree as HTML (SVG elements inline); tags and attribute names are checked, values escaped. */
export function toHtml(n: VNode | string): string {
  if (typeof n === 'string') return escapeHtml(n);
  if (!NAME.test(n.tag)) throw new Error(`toHtml: bad tag '${n.tag}'`);
  let out = `<${n.tag}`;
  for (const [k, v] of Object.entries(n.attrs ?? {})) {
    // No event handlers: nothing here runs script.
    if (!NAME.test(k) || /^on/i.test(k)) throw new Error(`toHtml: bad attribute '${k}'`);
    out += ` ${k}="${escapeHtml(String(v))}"`;
  }
  const kids = n.children ?? [];
  if (VOID.has(n.tag) && kids.length === 0) return `${out}>`;
  const inner = kids.map(toHtml).join('');
  // SVG leaf elements may self-close; HTML ones (except void) need their end tag.
  return `${out}>${inner}</${n.tag}>`;
}
