// One way to make an element in the webview: tag, class, and text set as text (never markup).

export type ElementMaker = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
) => HTMLElementTagNameMap[K];

/** An element maker bound to `doc`: `el('h2', 'vl-title', 'Advice')`. */
export function elementMaker(doc: Document): ElementMaker {
  return (tag, cls, text) => {
    const e = doc.createElement(tag);
    if (cls !== undefined) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
}

/** An element with attributes and children (text appended as text): the tool pages' form. */
export type TreeMaker = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Record<string, string>,
  ...kids: (Node | string)[]
) => HTMLElementTagNameMap[K];

/** A tree maker bound to `doc`: `el('button', { type: 'button' }, 'Run')`. */
export function treeMaker(doc: Document): TreeMaker {
  return (tag, attrs = {}, ...kids) => {
    const e = doc.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    for (const k of kids) e.append(k);
    return e;
  };
}
