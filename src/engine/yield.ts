/**
 * Lets the event loop run once: timers, I/O and signal handlers. jax-js runs small kernels on a
 * worker that lives on the main thread (node-shim.ts), and its replies resolve promises, which are
 * microtasks; a training loop that only awaits those never gives libuv a turn, so Ctrl-C and
 * SIGTERM went unnoticed with TILLER_THREADS=1 (see NOTES.md). Training loops await this once a step.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) =>
    typeof setImmediate === "function" ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}
