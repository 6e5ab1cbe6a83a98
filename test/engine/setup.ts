// Every test file runs with the engine loaded, as the CLI does before any command: importing the
// library alone loads nothing (test/engine/pure-import.test.ts), and `startEngine()` picks a device.
import { loadEngine } from "../../src/engine/jax.js";

await loadEngine();
