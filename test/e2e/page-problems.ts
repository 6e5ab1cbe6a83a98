/** What a user would trip over on a page: bad text and empty figures (shared by the page checks). */
import type { Page } from "playwright-core";

const BAD_TEXT = /\[object Object\]|\bNaN\b|\bundefined\b/;

/** What is wrong with the page as shown: bad text, and figures with nothing drawn. */
export async function problems(page: Page): Promise<string[]> {
  return page.evaluate((bad) => {
    const out: string[] = [];
    const text = document.body.innerText;
    const hit = new RegExp(bad).exec(text);
    if (hit)
      out.push(`text shows "${hit[0]}" near "${text.slice(Math.max(0, hit.index - 40), hit.index + 40)}"`);
    for (const svg of Array.from(
      document.querySelectorAll(".chart svg.marks, figure svg, .contour svg.marks"),
    )) {
      const box = svg.getBoundingClientRect();
      const marks = svg.querySelectorAll("path, rect, line, circle, text").length;
      const label =
        svg.closest("[aria-label]")?.getAttribute("aria-label") ??
        svg.closest("figure")?.textContent ??
        "a chart";
      if (box.width < 50 || box.height < 50 || marks < 10) out.push(`empty figure: ${label.slice(0, 80)}`);
    }
    // An axis whose neighbouring ticks read the same ("1, 2, 2, 3"): fractional ticks rounded.
    for (const axis of Array.from(document.querySelectorAll("svg .role-axis"))) {
      const ticks = Array.from(axis.querySelectorAll(".role-axis-label text"))
        .map((t) => t.textContent)
        .filter((t) => t); // log axes leave minor ticks unlabelled
      if (ticks.some((t, i) => i > 0 && t === ticks[i - 1]))
        out.push(`repeated axis ticks: ${ticks.join(", ")}`);
    }
    for (const img of Array.from(document.querySelectorAll("img")))
      if (!(img as HTMLImageElement).complete || (img as HTMLImageElement).naturalWidth === 0)
        out.push(`image not loaded: ${(img as HTMLImageElement).src}`);
    for (const s of Array.from(document.querySelectorAll(".surface[data-surface]")))
      if (!s.querySelector("canvas")) out.push("3-D surface without a canvas");
    return out;
  }, BAD_TEXT.source);
}
