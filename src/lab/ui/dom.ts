/** Small DOM helpers: build elements with text content only (never innerHTML with data). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number | boolean | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (k === "class") node.className = String(v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** Appends the children that are there (skipping null, undefined and false). */
export function put(node: Element, ...children: (Node | string | null | undefined | false)[]): void {
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
}

export function clear(node: Element): void {
  while (node.firstChild) node.firstChild.remove();
}

/** Announces a short message to screen readers (and shows it in the status line). */
export function announce(message: string): void {
  const region = document.getElementById("announce");
  if (region) region.textContent = message;
}

/** Numbers read the same on every page and in the report: one formatter module. */
export { bytes, count, duration, param, percent as pct, sig } from "../../report/format.js";
