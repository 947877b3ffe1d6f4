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
