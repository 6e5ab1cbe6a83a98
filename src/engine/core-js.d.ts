// core-js ships no types; the iterator-helpers entry is imported for its effect only (node-shim.ts).
declare module "core-js/actual/iterator/index.js";
