/**
 * Counts the WebGPU calls jax-js makes and the host time spent inside them, by wrapping the
 * prototypes of the device's objects (queue, device, command encoder, compute pass, buffer). For
 * bench/gpu-profile.ts only: it changes no behaviour, but every wrapped call pays a few hundred
 * nanoseconds more.
 */
type Fn = (this: unknown, ...args: unknown[]) => unknown;
type Proto = Record<string, unknown>;

export type GpuCounts = { calls: Record<string, number>; hostMs: Record<string, number> };

/** The WebGPU methods counted, by the object that owns them. */
const METHODS = {
  queue: ["submit", "writeBuffer"],
  device: ["createBindGroup", "createCommandEncoder", "createBuffer"],
  encoder: ["beginComputePass", "finish", "copyBufferToBuffer", "clearBuffer"],
  pass: ["dispatchWorkgroups", "setBindGroup", "setPipeline", "end"],
  buffer: ["mapAsync", "destroy"],
} as const;

type GpuLike = {
  queue: object;
  createCommandEncoder(): { beginComputePass(d?: object): { end(): void }; finish(): unknown };
  createBuffer(d: { size: number; usage: number }): { destroy(): void };
};

/** Wraps the methods once per process; `take()` returns the counts since the last `take()`. */
export function installWebGpuCounters(device: unknown): { take(): GpuCounts } {
  const gpu = device as GpuLike;
  const encoder = gpu.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.end();
  encoder.finish();
  const buffer = gpu.createBuffer({ size: 4, usage: 8 /* COPY_DST */ });
  const owners: Record<keyof typeof METHODS, object> = {
    queue: gpu.queue,
    device: gpu,
    encoder,
    pass,
    buffer,
  };
  let counts: GpuCounts = { calls: {}, hostMs: {} };
  for (const [owner, names] of Object.entries(METHODS) as [keyof typeof METHODS, readonly string[]][]) {
    const proto = Object.getPrototypeOf(owners[owner]) as Proto;
    for (const name of names) {
      const original = proto[name] as Fn | undefined;
      if (typeof original !== "function") continue;
      proto[name] = function wrapped(this: unknown, ...args: unknown[]) {
        const t0 = performance.now();
        try {
          return original.apply(this, args);
        } finally {
          counts.calls[name] = (counts.calls[name] ?? 0) + 1;
          counts.hostMs[name] = (counts.hostMs[name] ?? 0) + performance.now() - t0;
        }
      };
    }
  }
  buffer.destroy();
  return {
    take() {
      const out = counts;
      counts = { calls: {}, hostMs: {} };
      return out;
    },
  };
}
