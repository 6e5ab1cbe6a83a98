import { defaultDevice, init, loadEngine, type Device } from "./jax.js";

export type DeviceChoice = "auto" | "wasm" | "webgpu" | "cpu";

export const DEVICE_CHOICES: readonly DeviceChoice[] = ["auto", "wasm", "webgpu", "cpu"];

let started: Promise<Device> | null = null;

/** The device asked for: TILLER_DEVICE (set by the CLI's `--device`) wins over the argument. */
export function requestedDevice(choice: DeviceChoice = "wasm"): DeviceChoice {
  const fromEnv = typeof process === "undefined" ? undefined : process.env.TILLER_DEVICE;
  const wanted = fromEnv === undefined || fromEnv === "" ? choice : fromEnv;
  if (!(DEVICE_CHOICES as readonly string[]).includes(wanted))
    throw new Error(`unknown device "${wanted}" (expected one of: ${DEVICE_CHOICES.join(", ")})`);
  return wanted as DeviceChoice;
}

/**
 * Gives Node a `navigator.gpu` from the optional npm package `webgpu` (Dawn), as a browser has.
 * Returns why not when the package cannot be loaded; a browser, or Node with `navigator.gpu`
 * already set, needs nothing. TILLER_WEBGPU names another module path to load instead.
 */
async function provideWebGpu(): Promise<string | null> {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator?.gpu) return null;
  if (typeof process === "undefined") return "this runtime has no navigator.gpu";
  const specifier = process.env.TILLER_WEBGPU || "webgpu";
  let mod: { create: (flags: string[]) => unknown; globals: Record<string, unknown> };
  try {
    mod = (await import(/* @vite-ignore */ specifier)) as typeof mod;
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return `the optional npm package "webgpu" is not loadable (${why}), install it with \`npm install --no-save webgpu@0.6.2\``;
  }
  Object.assign(globalThis, mod.globals);
  const nav = (g.navigator ??= {});
  Object.defineProperty(nav, "gpu", { value: mod.create([]), configurable: true, enumerable: true });
  return null;
}

/**
 * Starts jax-js once per process and selects the device (on Node, first installing what the
 * runtime lacks: see node-shim.ts): `wasm` by default, `webgpu` when asked
 * for (or `auto` and a WebGPU adapter exists, e.g. in a browser or with the `webgpu` npm package).
 * TILLER_DEVICE overrides the argument. Asking for `webgpu` where there is no adapter fails with
 * one line saying why.
 */
export function startEngine(choice: DeviceChoice = "wasm"): Promise<Device> {
  started ??= (async () => {
    const wanted = requestedDevice(choice);
    await loadEngine();
    const gpuProblem = wanted === "webgpu" || wanted === "auto" ? await provideWebGpu() : null;
    const available = await init();
    if (wanted === "auto") {
      defaultDevice(available.includes("webgpu") ? "webgpu" : "wasm");
    } else {
      if (wanted === "webgpu" && !available.includes("webgpu"))
        throw new Error(
          `device "webgpu": no WebGPU adapter found: ${
            gpuProblem ?? "Dawn saw no GPU driver (on Linux it needs Vulkan: libvulkan1 and the GPU's ICD)"
          }; use --device wasm`,
        );
      if (!available.includes(wanted))
        throw new Error(`device "${wanted}" is not available here (available: ${available.join(", ")})`);
      defaultDevice(wanted);
    }
    return defaultDevice();
  })();
  return started;
}
