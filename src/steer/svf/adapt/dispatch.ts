/**
 * Pass 1 of Transformer² by prompting: the adaptation prompt asks a model to classify a question
 * into one of the expert categories or "other", answering \boxed{category} as the official code
 * does; `parseDispatch` reads the answer back. Anything it cannot read is "other" (→ base weights).
 */
import { boxed, dispatchQuestion, OTHER } from "../../../data/tasks/dispatch.js";

export { boxed, dispatchQuestion, OTHER };

const BOXED = /\\?boxed\s*[{(]\s*([^{}()]*?)\s*[})]/gi;

/**
 * The category a dispatch answer names, or "other". Reads the last \boxed{…} (also `boxed{…}`,
 * `\boxed(…)`, any case, surrounding spaces); its content must be a category or "other", or an
 * unambiguous prefix of one of at least three letters. Without a box, a bare category name as the
 * whole answer counts. Junk, empty boxes, two categories in one box: "other".
 */
export function parseDispatch(text: string, categories: readonly string[]): string {
  return readDispatch(text, categories) ?? OTHER;
}

/** The category or "other" a dispatch answer names, or null when it names nothing readable. */
export function readDispatch(text: string, categories: readonly string[]): string | null {
  const known = [...categories.map((c) => c.toLowerCase()), OTHER];
  const resolve = (raw: string): string | null => {
    const s = raw.trim().toLowerCase();
    if (!s) return null;
    const exact = known.indexOf(s);
    if (exact >= 0) return exact < categories.length ? categories[exact] : OTHER;
    if (s.length < 3) return null;
    const hits = known.map((k, i) => [k, i] as const).filter(([k]) => k.startsWith(s));
    if (hits.length !== 1) return null;
    const i = hits[0][1];
    return i < categories.length ? categories[i] : OTHER;
  };
  const boxes = [...text.matchAll(BOXED)];
  return resolve(boxes.length ? boxes[boxes.length - 1][1] : text);
}
