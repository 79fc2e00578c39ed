// One of the processes of the demo's shared-memory part, under any runtime: leaves a message
// for the next worker, adds to the shared counter as fast as it can once every worker has
// arrived, and prints what it saw as JSON.
// Usage: shm_worker.ts NAME SLOT WORKERS ADDS
import process from "node:process";
import { current, currentVersion } from "../tests/support/runtimes.ts";
import { mapShared } from "./maps.ts";
import {
  ARRIVED,
  COUNTER,
  counters,
  FINISHED,
  MAX_WORKERS,
  readMessage,
  waitFor,
  writeMessage,
} from "./shared_layout.ts";

/** True if `value` is a whole number from `min` to `max`. */
function within(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}

const [name, slotText, workersText, addsText] = process.argv.slice(2);
const slot = Number(slotText);
const workers = Number(workersText);
const adds = Number(addsText);
if (
  name === undefined || !within(workers, 1, MAX_WORKERS) || !within(slot, 0, workers - 1) ||
  !within(adds, 0, Number.MAX_SAFE_INTEGER)
) {
  console.error(`usage: shm_worker.ts NAME SLOT WORKERS ADDS (WORKERS up to ${MAX_WORKERS})`);
  process.exit(2);
}
// Deno, Bun and Node each report their own version under their name.
const runtime = `${current.title} ${currentVersion}`;

const shared = mapShared(name, 0);
const view = counters(shared);
writeMessage(shared, slot, `hello from ${runtime}, pid ${process.pid}`);
Atomics.add(view, ARRIVED, 1);
if (!(await waitFor(view, ARRIVED, workers))) throw new Error("not every worker arrived");

for (let add = 0; add < adds; add++) Atomics.add(view, COUNTER, 1);

Atomics.add(view, FINISHED, 1);
if (!(await waitFor(view, FINISHED, workers))) throw new Error("not every worker finished");
const next = (slot + 1) % workers;
const report = { runtime, pid: process.pid, added: adds, read: readMessage(shared, next) };
shared.unmap();
console.log(JSON.stringify(report));
