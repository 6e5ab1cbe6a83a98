import { afterEach, describe, expect, it } from "vitest";
import { requestedDevice, startEngine } from "../../src/engine/device.js";

describe("device choice", () => {
  afterEach(() => {
    delete process.env.TILLER_DEVICE;
    delete process.env.TILLER_WEBGPU;
  });

  it("takes TILLER_DEVICE over the argument and refuses unknown names", () => {
    expect(requestedDevice("wasm")).toBe("wasm");
    process.env.TILLER_DEVICE = "webgpu";
    expect(requestedDevice("wasm")).toBe("webgpu");
    process.env.TILLER_DEVICE = "gpu";
    expect(() => requestedDevice()).toThrow(/unknown device "gpu".*auto, wasm, webgpu, cpu/);
  });

  it("says in one line why webgpu is unavailable when the webgpu package cannot be loaded", async () => {
    process.env.TILLER_WEBGPU = "./no-such-webgpu-module.js";
    const error = await startEngine("webgpu").catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^device "webgpu": no WebGPU adapter found: the optional npm package "webgpu"/);
    expect(message).toMatch(/use --device wasm$/);
    expect(message).not.toContain("\n");
  });
});
