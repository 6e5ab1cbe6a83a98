/**
 * The form that starts a `tiller` command from the lab: train one model, compare optimisers on
 * one model, or compute a loss surface of an existing run. The server validates it again.
 */
import { api, ApiError, type Options, type RunListEntry } from "../api.js";
import { announce, el } from "../dom.js";

type Kind = "train" | "optim-compare" | "landscape-surface";

export function jobForm(
  options: Options,
  runs: () => RunListEntry[],
  onStarted: (runId: string) => void,
): HTMLFormElement {
  const field = (label: string, input: HTMLElement, hint?: string) =>
    el("label", { class: "field" }, el("span", {}, label), input, hint ? el("small", {}, hint) : null);
  const select = (name: string, values: string[], value: string) => {
    const s = el("select", { name, id: `job-${name}` }, ...values.map((v) => el("option", { value: v }, v)));
    s.value = value;
    return s;
  };
  const number = (name: string, value: number | "", attrs: Record<string, string | number | boolean> = {}) =>
    el("input", { type: "number", name, id: `job-${name}`, value, ...attrs });

  const kind = select("kind", ["train", "optim-compare", "landscape-surface"], "train");
  const model = select("model", options.models, options.models[0]);
  const optimizer = select(
    "optimizer",
    options.optimizers,
    options.optimizers.includes("adam") ? "adam" : options.optimizers[0],
  );
  const lr = number("lr", options.defaultLr[optimizer.value] ?? 1e-3, {
    step: "any",
    min: 0,
    required: true,
  });
  optimizer.addEventListener("change", () => {
    lr.value = String(options.defaultLr[optimizer.value] ?? lr.value);
  });
  const chosen = new Set(["sgd", "adam"].filter((o) => options.optimizers.includes(o)));
  const optimizers = el(
    "fieldset",
    { class: "field checks", id: "job-optimizers" },
    el("legend", {}, "Optimisers (their default settings)"),
    ...options.optimizers.map((o) => {
      const box = el("input", { type: "checkbox", value: o, id: `job-opt-${o}` });
      box.checked = chosen.has(o);
      box.addEventListener("change", () => (box.checked ? chosen.add(o) : chosen.delete(o)));
      return el("label", { class: "check" }, box, ` ${o}`);
    }),
  );
  const epochs = number("epochs", 3, { min: 1, max: 200, step: 1, required: true });
  const batchSize = number("batchSize", 256, { min: 1, max: 4096, step: 1, required: true });
  const limit = number("limit", "", { min: 1, max: 60000, step: 1, placeholder: "all 60,000" });
  const seed = number("seed", 0, { min: 0, step: 1, required: true });
  const logEvery = number("logEvery", 10, { min: 1, max: 10000, step: 1, required: true });
  const run = el("select", { id: "job-run", name: "run" });
  const directions = select("directions", ["random", "hessian", "pca"], "random");
  const count = number("count", 2, { min: 2, max: 8, step: 2, required: true });
  const steps = number("steps", 40, { min: 3, max: 200, step: 1, required: true });
  const examples = number("examples", 256, { min: 1, max: 10000, step: 1, required: true });

  const groups: Record<Kind, HTMLElement[]> = {
    train: [
      field("Model", model),
      field("Optimiser", optimizer),
      field("Learning rate", lr),
      field("Epochs", epochs),
      field("Batch size", batchSize),
      field("Training images", limit, "empty: the full set"),
      field("Seed", seed),
      field("Log every (steps)", logEvery),
    ],
    "optim-compare": [optimizers],
    "landscape-surface": [
      field("Run", run, "a training run with checkpoints"),
      field("Directions", directions),
      field("Directions (pairs → panels)", count),
      field("Grid points per axis", steps),
      field("Evaluation images", examples),
    ],
  };
  // The comparison shares the training fields except the single optimiser and its learning rate.
  const shared = new Set(groups.train.filter((_, i) => ![1, 2].includes(i)));
  const fields = el("div", { class: "fields" });
  const message = el("p", { class: "form-message", role: "status", "aria-live": "polite" });
  const submit = el("button", { type: "submit" }, "Start");
  const form = el(
    "form",
    { class: "job-form", "aria-label": "Start a job" },
    field("What to run", kind),
    fields,
    el("div", { class: "toolbar" }, submit, message),
  );

  const show = () => {
    const k = kind.value as Kind;
    const visible =
      k === "optim-compare" ? [...groups.train.filter((f) => shared.has(f)), ...groups[k]] : groups[k];
    fields.replaceChildren(...visible);
    submit.textContent =
      k === "train" ? "Start training" : k === "optim-compare" ? "Start comparison" : "Compute surface";
    if (k === "landscape-surface") {
      const current = run.value;
      const candidates = runs().filter((r) => r.command === "train" && r.status !== "running");
      run.replaceChildren(...candidates.map((r) => el("option", { value: r.id }, r.id)));
      if (candidates.some((r) => r.id === current)) run.value = current;
    }
  };
  kind.addEventListener("change", show);
  form.addEventListener("focusin", (e) => {
    if (e.target === run) show();
  });
  show();

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const inputs = { model, optimizer, lr, epochs, batchSize, limit, seed, logEvery };
    const surface = { run, directions, count, steps, examples };
    const picked = options.optimizers.filter((o) => chosen.has(o));
    const body = jobBody(kind.value as Kind, inputs, surface, picked);
    void submitJob(body, submit, message, onStarted);
  });
  return form;
}

/** Sends the job; the button waits and the message says what happened. */
async function submitJob(
  body: object,
  submit: HTMLButtonElement,
  message: HTMLElement,
  onStarted: (runId: string) => void,
): Promise<void> {
  submit.disabled = true;
  message.textContent = "Starting…";
  try {
    const job = await api.submitJob(body);
    message.textContent = `Started: ${job.label}.`;
    announce(`Started: ${job.label}`);
    if (job.runId) onStarted(job.runId);
  } catch (err) {
    message.textContent =
      err instanceof ApiError ? err.message : `Could not start: ${(err as Error).message}`;
  } finally {
    submit.disabled = false;
  }
}

type Input = { value: string };

/** The request the server validates, from the form's inputs. */
function jobBody(
  k: Kind,
  t: Record<"model" | "optimizer" | "lr" | "epochs" | "batchSize" | "limit" | "seed" | "logEvery", Input>,
  surface: Record<"run" | "directions" | "count" | "steps" | "examples", Input>,
  optimizers: string[],
): object {
  if (k === "landscape-surface")
    return {
      kind: k,
      run: surface.run.value,
      directions: surface.directions.value,
      count: Number(surface.count.value),
      steps: Number(surface.steps.value),
      examples: Number(surface.examples.value),
    };
  const common = {
    model: t.model.value,
    epochs: Number(t.epochs.value),
    batchSize: Number(t.batchSize.value),
    seed: Number(t.seed.value),
    logEvery: Number(t.logEvery.value),
    ...(t.limit.value ? { limit: Number(t.limit.value) } : {}),
  };
  return k === "train"
    ? { kind: k, ...common, optimizer: t.optimizer.value, lr: Number(t.lr.value) }
    : { kind: k, ...common, optimizers };
}
