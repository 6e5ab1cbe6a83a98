/**
 * Two-pass inference, batched. Pass 1 reads every prompt once and picks a route per prompt (an
 * expert category or "other"); pass 2 groups the prompts by route and answers each group with
 * that route's weights, built once per route (W′ for an expert, the base weights for "other").
 * Both passes count tokens and time, for tokens/s.
 */
import { treeDispose, treeRef, type Params } from "../../../engine/tree.js";
import { answerText, promptIds } from "../../../lm/evaluate.js";
import type { Generator } from "../../../lm/generate.js";
import type { TextTokenizer } from "../../../lm/tokenizer.js";
import { dispatchQuestion, OTHER, parseDispatch } from "./dispatch.js";

export type PassStats = { prompts: number; promptTokens: number; generatedTokens: number; seconds: number };

export const DISPATCH_TOKENS = 20;

export function emptyStats(): PassStats {
  return { prompts: 0, promptTokens: 0, generatedTokens: 0, seconds: 0 };
}

export function addStats(a: PassStats, b: PassStats): PassStats {
  return {
    prompts: a.prompts + b.prompts,
    promptTokens: a.promptTokens + b.promptTokens,
    generatedTokens: a.generatedTokens + b.generatedTokens,
    seconds: a.seconds + b.seconds,
  };
}

/** Tokens (prompt and generated) per second. */
export function tokensPerSecond(s: PassStats): number {
  return s.seconds > 0 ? (s.promptTokens + s.generatedTokens) / s.seconds : 0;
}

/** Greedy answers to questions (task prompt template), in batches. Borrows params. */
export async function answer(
  gen: Generator,
  params: Params,
  tok: TextTokenizer,
  questions: string[],
  opts: { maxNewTokens: number; batchSize: number },
): Promise<{ texts: string[]; stats: PassStats }> {
  const t0 = performance.now();
  const texts: string[] = [];
  const stats = emptyStats();
  for (let i = 0; i < questions.length; i += opts.batchSize) {
    const prompts = questions.slice(i, i + opts.batchSize).map((q) => promptIds(tok, q));
    const g = await gen.generate(treeRef(params), prompts, {
      maxNewTokens: opts.maxNewTokens,
      temperature: 0,
      eosId: tok.eosId,
      padId: tok.padId,
    });
    texts.push(...g.tokens.map((t) => answerText(tok, t)));
    stats.promptTokens += prompts.reduce((s, p) => s + p.length, 0);
    stats.generatedTokens += g.tokens.reduce((s, t) => s + t.length, 0);
  }
  stats.prompts = questions.length;
  stats.seconds = (performance.now() - t0) / 1000;
  return { texts, stats };
}

/** Pass 1 by the adaptation prompt, with the given weights (base: strategy 1; z_c: strategy 2). */
export async function dispatchPass(
  gen: Generator,
  params: Params,
  tok: TextTokenizer,
  questions: string[],
  categories: readonly string[],
  batchSize: number,
): Promise<{ routes: string[]; raw: string[]; stats: PassStats }> {
  const { texts, stats } = await answer(
    gen,
    params,
    tok,
    questions.map((q) => dispatchQuestion(q, categories)),
    { maxNewTokens: DISPATCH_TOKENS, batchSize },
  );
  return { routes: texts.map((t) => parseDispatch(t, categories)), raw: texts, stats };
}

/** Weights per route, each built on first use and kept: one W′ per expert, however many prompts. */
export class RouteWeights {
  private readonly built = new Map<string, Params>();
  builds = 0;
  constructor(
    private readonly base: Params,
    private readonly build: (route: string) => Params,
  ) {}

  /** Borrowed: valid until dispose(). */
  get(route: string): Params {
    if (route === OTHER) return this.base;
    let p = this.built.get(route);
    if (!p) {
      p = this.build(route);
      this.builds++;
      this.built.set(route, p);
    }
    return p;
  }

  dispose(): void {
    for (const p of this.built.values()) treeDispose(p);
    this.built.clear();
  }
}

/** Pass 2: answers grouped by route, returned in the prompts' order. */
export async function answerByRoute(
  gen: Generator,
  weights: RouteWeights,
  tok: TextTokenizer,
  questions: string[],
  routes: string[],
  opts: { maxNewTokens: number; batchSize: number },
): Promise<{ texts: string[]; stats: PassStats; groups: Record<string, number> }> {
  const groups = new Map<string, number[]>();
  routes.forEach((r, i) => groups.set(r, [...(groups.get(r) ?? []), i]));
  const texts = new Array<string>(questions.length);
  let stats = emptyStats();
  for (const [route, idx] of groups) {
    const t0 = performance.now();
    const params = weights.get(route);
    const built = (performance.now() - t0) / 1000;
    const out = await answer(
      gen,
      params,
      tok,
      idx.map((i) => questions[i]),
      opts,
    );
    idx.forEach((i, j) => (texts[i] = out.texts[j]));
    stats = addStats(stats, { ...out.stats, seconds: out.stats.seconds + built });
  }
  return { texts, stats, groups: Object.fromEntries([...groups].map(([r, i]) => [r, i.length])) };
}
