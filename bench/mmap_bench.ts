/**
 * The Deno side of the benchmarks, for `deno bench`: each case of `bench/cases.ts` is a group
 * whose baseline is this library's way of doing the work, so `deno bench` prints how much faster
 * or slower each peer is. `bench/run.ts` runs it with `--json`, the files it made in
 * `MMAP_BENCH_DATA` (JSON) and `MMAP_BENCH_QUICK=1` for small sizes, and puts the results in its
 * table. Run alone (`deno task bench:deno`), it makes its own small data and removes it after.
 *
 * @module
 */
import { CASES, type Prepared } from "./cases.ts";
import { type DataSet, FULL, makeData, QUICK, removeData } from "./data.ts";
import type { Operation } from "./timing.ts";

const given = Deno.env.get("MMAP_BENCH_DATA");
const quick = given === undefined || Deno.env.get("MMAP_BENCH_QUICK") === "1";
const sizes = quick ? QUICK : FULL;
const data: DataSet = given === undefined ? makeData(sizes) : JSON.parse(given);
const prepared: Prepared[] = [];

// Runs once every bench is done (or the run fails): unmap, close, remove what was made here.
addEventListener("unload", () => {
  for (const ready of prepared) ready.close();
  if (given === undefined) removeData(data.dir);
});

/** Whatever the operations return ends up here, so no engine can skip the work. */
export let sink: unknown = undefined;

function benchFunction(operation: Operation): () => void | Promise<void> {
  return () => {
    const result = operation();
    if (result instanceof Promise) return result.then((value) => void (sink = value));
    sink = result;
  };
}

for (const definition of CASES) {
  const ready = await definition.prepare(data, sizes);
  prepared.push(ready);
  for (const [name, operation] of Object.entries(ready.candidates)) {
    Deno.bench({
      name,
      group: definition.id,
      baseline: name === ready.ours,
      // A whole-file scan takes a large fraction of a second: a fixed, small count.
      ...(definition.slow ? { n: quick ? 5 : 9, warmup: quick ? 1 : 2 } : {}),
      fn: benchFunction(operation),
    });
  }
}
