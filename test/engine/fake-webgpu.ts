/**
 * A WebGPU that computes nothing and counts what it is asked to do: enough of the API for jax-js's
 * WebGPU backend to start, compile kernels and dispatch them, so a test can check how jax-js drives
 * the GPU (how many command buffers it submits, when) on a machine without one. Every method not
 * written out below is a no-op returning another such object.
 */
export type GpuLog = { submits: number; dispatches: number; writes: number };

type Loose = Record<string | symbol, unknown>;

/** An object whose every unknown property is a no-op method returning another such object. */
function loose(known: Loose = {}): Loose {
  return new Proxy(known, {
    get(target, key) {
      if (key in target) return target[key];
      if (key === "then") return undefined; // not a thenable
      return () => loose();
    },
  });
}

const LIMITS = {
  maxBufferSize: 2 ** 31,
  maxStorageBufferBindingSize: 2 ** 31,
  maxComputeInvocationsPerWorkgroup: 1024,
  maxComputeWorkgroupSizeX: 1024,
  maxComputeWorkgroupSizeY: 1024,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupStorageSize: 32768,
  maxComputeWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 16,
  maxStorageTexturesPerShaderStage: 8,
  minUniformBufferOffsetAlignment: 256,
};

/** Installs the fake as `navigator.gpu` (and the WebGPU constants jax-js reads); returns its log. */
export function installFakeWebGpu(): GpuLog {
  const log: GpuLog = { submits: 0, dispatches: 0, writes: 0 };
  const buffer = (size: number) =>
    loose({
      size,
      mapAsync: async () => {},
      getMappedRange: () => new ArrayBuffer(size),
    });
  const pass = () => loose({ dispatchWorkgroups: () => void log.dispatches++ });
  const device = loose({
    limits: LIMITS,
    features: new Set<string>(),
    queue: loose({
      submit: () => void log.submits++,
      writeBuffer: () => void log.writes++,
      onSubmittedWorkDone: async () => {},
    }),
    createBuffer: (d: { size: number }) => buffer(d.size),
    createCommandEncoder: () => loose({ beginComputePass: pass }),
    createComputePipelineAsync: async () => loose(),
    popErrorScope: async () => null,
    addEventListener: () => {},
  });
  const adapter = loose({ limits: LIMITS, features: new Set<string>(), requestDevice: async () => device });
  const g = globalThis as Loose;
  g.GPUBufferUsage = {
    MAP_READ: 1,
    MAP_WRITE: 2,
    COPY_SRC: 4,
    COPY_DST: 8,
    UNIFORM: 64,
    STORAGE: 128,
    QUERY_RESOLVE: 512,
  };
  g.GPUMapMode = { READ: 1, WRITE: 2 };
  g.GPUShaderStage = { COMPUTE: 4 };
  g.GPUTextureUsage = { COPY_DST: 2 };
  Object.defineProperty(globalThis, "navigator", {
    value: {
      gpu: loose({ requestAdapter: async () => adapter }),
      userAgent: "Node.js",
      hardwareConcurrency: 1,
    },
    configurable: true,
  });
  return log;
}
