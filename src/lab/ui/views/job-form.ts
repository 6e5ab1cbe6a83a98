/** The form that starts `tiller train` from the lab (validated again by the server). */
import { api, ApiError, type Options } from "../api.js";
import { announce, el } from "../dom.js";

export function jobForm(options: Options, onStarted: (runId: string) => void): HTMLFormElement {
  const field = (label: string, input: HTMLElement, hint?: string) =>
    el("label", { class: "field" }, el("span", {}, label), input, hint ? el("small", {}, hint) : null);
  const select = (name: string, values: string[], value: string) => {
    const s = el("select", { name, id: `job-${name}` }, ...values.map((v) => el("option", { value: v }, v)));
    s.value = value;
    return s;
  };
  const number = (name: string, value: number, attrs: Record<string, string | number> = {}) =>
    el("input", { type: "number", name, id: `job-${name}`, value, required: true, ...attrs });

  const model = select("model", options.models, options.models[0]);
  const optimizer = select(
    "optimizer",
    options.optimizers,
    options.optimizers.includes("adam") ? "adam" : options.optimizers[0],
  );
  const lr = number("lr", options.defaultLr[optimizer.value] ?? 1e-3, { step: "any", min: 0 });
  optimizer.addEventListener("change", () => {
    lr.value = String(options.defaultLr[optimizer.value] ?? lr.value);
  });
  const epochs = number("epochs", 3, { min: 1, max: 200, step: 1 });
  const batchSize = number("batchSize", 256, { min: 1, max: 4096, step: 1 });
  const limit = el("input", {
    type: "number",
    name: "limit",
    id: "job-limit",
    min: 1,
    max: 60000,
    step: 1,
    placeholder: "all 60,000",
  });
  const seed = number("seed", 0, { min: 0, step: 1 });
  const logEvery = number("logEvery", 10, { min: 1, max: 10000, step: 1 });
  const message = el("p", { class: "form-message", role: "status", "aria-live": "polite" });
  const submit = el("button", { type: "submit" }, "Start training");

  const form = el(
    "form",
    { class: "job-form", "aria-label": "Start a training run" },
    el(
      "div",
      { class: "fields" },
      field("Model", model),
      field("Optimiser", optimizer),
      field("Learning rate", lr),
      field("Epochs", epochs),
      field("Batch size", batchSize),
      field("Training images", limit, "empty: the full set"),
      field("Seed", seed),
      field("Log every (steps)", logEvery),
    ),
    el("div", { class: "toolbar" }, submit, message),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = {
      kind: "train",
      model: model.value,
      optimizer: optimizer.value,
      lr: Number(lr.value),
      epochs: Number(epochs.value),
      batchSize: Number(batchSize.value),
      seed: Number(seed.value),
      logEvery: Number(logEvery.value),
      ...(limit.value ? { limit: Number(limit.value) } : {}),
    };
    submit.disabled = true;
    message.textContent = "Starting…";
    api
      .submitJob(body)
      .then((job) => {
        message.textContent = `Started ${job.runId}.`;
        announce(`Training started: ${job.runId}`);
        if (job.runId) onStarted(job.runId);
      })
      .catch((err: unknown) => {
        message.textContent =
          err instanceof ApiError ? err.message : `Could not start: ${(err as Error).message}`;
      })
      .finally(() => {
        submit.disabled = false;
      });
  });
  return form;
}
