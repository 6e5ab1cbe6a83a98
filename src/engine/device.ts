import { defaultDevice, init, type Device } from "./jax.js";

export type DeviceChoice = "auto" | "wasm" | "webgpu" | "cpu";

let started: Promise<Device> | null = null;

/**
 * Starts jax-js once per process and selects the device: `wasm` by default, `webgpu` when asked
 * for (or `auto` and a WebGPU adapter exists, e.g. in a browser or with the `webgpu` npm package).
 * TILLER_DEVICE overrides the argument.
 */
export function startEngine(choice: DeviceChoice = "wasm"): Promise<Device> {
  const fromEnv = typeof process === "undefined" ? undefined : process.env.TILLER_DEVICE;
  const wanted = (fromEnv as DeviceChoice | undefined) ?? choice;
  started ??= (async () => {
    const available = await init();
    if (wanted === "auto") {
      defaultDevice(available.includes("webgpu") ? "webgpu" : "wasm");
    } else {
      if (!available.includes(wanted))
        throw new Error(`device "${wanted}" is not available here (available: ${available.join(", ")})`);
      defaultDevice(wanted);
    }
    return defaultDevice();
  })();
  return started;
}
