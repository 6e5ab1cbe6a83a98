/** Prints the first 40 test questions of every task family as JSON (input of lm_tasks_check.py). */
import { FAMILIES, evalSplits } from "../../src/data/tasks/index.js";

const out = Object.fromEntries(FAMILIES.map((f) => [f.name, evalSplits(f.name).test.slice(0, 40)]));
process.stdout.write(JSON.stringify(out));
