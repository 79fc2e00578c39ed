// One of the two processes of the demo's shared-memory part: leaves a message for the other,
// adds to the shared counter as fast as it can, and prints what it saw as JSON.
// Usage: shm_worker.ts NAME SLOT ADDS
import process from "node:process";
import { mapShared } from "./maps.ts";
import {
  ARRIVED,
  COUNTER,
  counters,
  FINISHED,
  readMessage,
  waitFor,
  WORKERS,
  writeMessage,
} from "./shared_layout.ts";

const [name, slotText, addsText] = process.argv.slice(2);
const slot = Number(slotText);
const adds = Number(addsText);
const runtime = "Bun" in globalThis ? `Bun ${process.versions.bun}` : `Deno ${Deno.version.deno}`;

const shared = mapShared(name, 0);
const view = counters(shared);
writeMessage(shared, slot, `hello from ${runtime}, pid ${process.pid}`);
Atomics.add(view, ARRIVED, 1);
if (!(await waitFor(view, ARRIVED, WORKERS))) throw new Error("the other worker never arrived");

for (let add = 0; add < adds; add++) Atomics.add(view, COUNTER, 1);

Atomics.add(view, FINISHED, 1);
if (!(await waitFor(view, FINISHED, WORKERS))) throw new Error("the other worker never finished");
const report = { runtime, pid: process.pid, added: adds, read: readMessage(shared, 1 - slot) };
shared.unmap();
console.log(JSON.stringify(report));
