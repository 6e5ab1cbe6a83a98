/** Groups jax-js profiler entries (one `performance.measure` per kernel) by kind of kernel. */

export type Measure = {
  name: string;
  duration: number;
  detail?: { devtools?: { track?: string; properties?: [string, string][] } };
};

/** Kernel times grouped by kind, and the reductions one by one (output size × reduction length). */
export function kernelGroups(entries: Measure[]) {
  const groups: Record<string, { count: number; ms: number }> = {};
  const reductions: { size: number; reduction: string; ms: number }[] = [];
  for (const e of entries) {
    const props = Object.fromEntries(e.detail?.devtools?.properties ?? []);
    const size = Number(props.size ?? 0);
    const red = props.reduction as string | undefined;
    const redSize = red ? Number(red.split(":")[1]) : 0;
    const kind = !props.exp
      ? `routine ${e.name}`
      : !red
        ? "elementwise"
        : size * redSize >= 1 << 20
          ? "matmul-sized reduction"
          : "small reduction";
    if (red) reductions.push({ size, reduction: red, ms: Number(e.duration.toFixed(3)) });
    groups[kind] ??= { count: 0, ms: 0 };
    groups[kind].count++;
    groups[kind].ms += e.duration;
  }
  reductions.sort((a, b) => b.ms - a.ms);
  return { groups, reductions };
}
