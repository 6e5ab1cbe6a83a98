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

export const pct = (x?: number | null) =>
  typeof x === "number" && Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : "–";

export function duration(s?: number): string {
  if (typeof s !== "number" || !Number.isFinite(s)) return "–";
  if (s < 90) return `${s.toFixed(1)} s`;
  if (s < 5400) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}
