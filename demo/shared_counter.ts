/**
 * The shared-memory part of the demo: one process per runtime (Deno, Bun, Node) maps the same
 * POSIX shared-memory object, leaves the next one a message, and adds to one counter with
 * `Atomics`.
 *
 * @module
 */
import process from "node:process";
import type { Runtime } from "../tests/support/runtimes.ts";
import { runScript } from "./children.ts";
import { onCleanup } from "./cleanup.ts";
import { mapShared } from "./maps.ts";
import { COUNTER, counters, SHARED_BYTES } from "./shared_layout.ts";
import { formatCount, progress } from "./terminal.ts";

/** What one worker reported. */
export interface WorkerReport {
  /** The worker's runtime and version, as `Node 26.10.0`. */
  runtime: string;
  pid: number;
  added: number;
  /** The message the worker read from the next worker's slot. */
  read: string;
}

/** The outcome: each worker's report and the counter's final value. */
export interface SharedResult {
  name: string;
  workers: WorkerReport[];
  counter: number;
  seconds: number;
}

/** Runs one worker per runtime, each adding `adds` to the shared counter. */
export async function shareCounter(
  runtimes: readonly Runtime[],
  adds: number,
): Promise<SharedResult> {
  const name = `/mmap-demo-${process.pid}`;
  const shared = mapShared(name, SHARED_BYTES);
  const forget = onCleanup(() => {
    shared.unlink();
    shared.unmap();
  });
  const view = counters(shared);
  const total = adds * runtimes.length;
  const bar = progress(`${runtimes.map((runtime) => runtime.title).join(" + ")} adding`, total);
  const timer = setInterval(() => bar.update(Atomics.load(view, COUNTER)), 50);
  const started = performance.now();
  try {
    const finished = await Promise.all(
      runtimes.map((runtime, slot) =>
        runScript(runtime, "shm_worker.ts", [name, slot, runtimes.length, adds].map(String))
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const workers = finished.map((child, slot) => {
      if (child.code !== 0) {
        throw new Error(`the ${runtimes[slot].title} worker failed:\n${child.stderr}`);
      }
      return JSON.parse(child.lines.at(-1)!) as WorkerReport;
    });
    const counter = Atomics.load(view, COUNTER);
    bar.finish(`counter = ${formatCount(counter)}`);
    return { name, workers, counter, seconds };
  } finally {
    clearInterval(timer);
    forget();
    shared.unlink();
    shared.unmap();
  }
}
