/**
 * Runs the benchmarks: generates the data, runs the native floor and then each runtime's side
 * as child processes: the Deno side (`deno bench` on bench/mmap_bench.ts), the Bun and Node
 * sides (bench/cases.ts), each started as tests/support/runtimes.ts says; and prints one table
 * of this library against each peer with the ratio, the target and whether it was met. A
 * runtime that is not installed is skipped. Timings never fail the run; a case that throws does.
 *
 * `deno task bench` (full sizes) or `deno task bench:quick` (small sizes, for CI); both build
 * the library and the native floor first. `--runtimes=node,bun` runs only those sides. See
 * bench/README.md.
 *
 * @module
 */
import * as os from "node:os";
import * as fs from "node:fs";
import { type DataSet, FULL, makeData, QUICK, removeData, type Sizes } from "./data.ts";
import { type CaseResult, CASES, type RuntimeResult } from "./cases.ts";
import {
  binary,
  current,
  currentVersion,
  installedVersion,
  type Runtime,
  RUNTIME_NAMES,
  runtimeNamed,
  runtimes,
} from "../tests/support/runtimes.ts";

const quick = Deno.args.includes("--quick");
/** The runtimes asked for (`--runtimes=deno,node`; default: all), run in the table's order. */
const asked: readonly Runtime[] = Deno.args.find((arg) => arg.startsWith("--runtimes="))
  ?.slice("--runtimes=".length).split(",").map(runtimeNamed) ??
  RUNTIME_NAMES.map((name) => runtimes[name]);
const root = decodeURIComponent(new URL("..", import.meta.url).pathname);
const floorPath = `${root}target/release/examples/native_floor`;

/** The native floor's figures, ns per operation. */
type Floor = Record<"byName" | "byFd" | "libraryByName" | "liveCount", number>;

function needBuilt(file: string): void {
  if (!fs.existsSync(file)) {
    throw new Error(
      `bench: ${file} is missing; \`deno task bench\` builds it (cargo build --release ` +
        "--example native_floor)",
    );
  }
}

/** The child process running now, stopped if the bench is interrupted. */
let running: Deno.ChildProcess | null = null;

/** Runs a child to the end and returns its standard output. */
async function child(
  command: string,
  args: string[],
  env?: Record<string, string>,
): Promise<string> {
  running = new Deno.Command(command, {
    args,
    env,
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const output = await running.output();
    const text = new TextDecoder().decode(output.stdout);
    if (!output.success) {
      throw new Error(`bench: ${command} ${args[0]} ... failed (exit code ${output.code})`);
    }
    return text;
  } finally {
    running = null;
  }
}

/** The last line a child printed: the JSON of the floor and of a harness side. */
function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}

/** What `deno bench --json` prints, as far as it is read here. */
interface DenoBenchReport {
  /** `"Deno/2.9.6 x86_64-unknown-linux-gnu"`. */
  runtime: string;
  benches: { group: string; name: string; results: { ok?: { avg: number } }[] }[];
}

/**
 * `deno bench --json` with the permissions the runtime table gives a script that writes (the
 * same as its `deno run`).
 */
function denoBenchArgs(script: string): string[] {
  const args = runtimes.deno.scriptArgs(script, [], { write: true });
  if (args[0] !== "run") throw new Error(`bench: expected \`deno run\` arguments: ${args}`);
  return ["bench", "--json", ...args.slice(1)];
}

/**
 * The Deno side: `deno bench --json bench/mmap_bench.ts` times each case's candidates (their
 * mean ns per operation, `deno bench`'s headline figure), and each case turns them into rows.
 */
async function denoSide(data: DataSet, sizes: Sizes): Promise<RuntimeResult> {
  const env = { MMAP_BENCH_DATA: JSON.stringify(data), MMAP_BENCH_QUICK: quick ? "1" : "0" };
  const report = JSON.parse(
    await child(binary(runtimes.deno), denoBenchArgs("bench/mmap_bench.ts"), env),
  ) as DenoBenchReport;
  const groups = new Map<string, Record<string, number>>();
  for (const bench of report.benches) {
    const ok = bench.results[0]?.ok;
    if (ok === undefined) {
      throw new Error(`bench: deno bench case ${bench.group} ${bench.name} failed`);
    }
    groups.set(bench.group, { ...groups.get(bench.group), [bench.name]: ok.avg });
  }
  const cases = CASES.flatMap((definition) => definition.rows(groups.get(definition.id)!, sizes));
  // The version of the Deno that ran the benches (DENO_BIN may name another than this one).
  const version = /^Deno\/(\S+)/.exec(report.runtime)?.[1] ?? currentVersion;
  return { runtime: "deno", version, cases };
}

/** A side run by this file's harness: `bench/cases.ts` under the runtime, timed by timing.ts. */
async function harnessSide(runtime: Runtime, data: DataSet): Promise<RuntimeResult> {
  const args = ["--data", JSON.stringify(data), ...(quick ? ["--quick"] : [])];
  const result = JSON.parse(
    lastLine(await child(binary(runtime), runtime.scriptArgs("bench/cases.ts", args))),
  ) as RuntimeResult;
  if (runtimeNamed(result.runtime) !== runtime) {
    throw new Error(`bench: ${binary(runtime)} ran as ${result.runtime}, not ${runtime.name}`);
  }
  return result;
}

/** How one runtime's side is run and timed. */
interface Side {
  runtime: Runtime;
  /** What its times are, for the note above the table. */
  timedBy: string;
  run(data: DataSet, sizes: Sizes): Promise<RuntimeResult>;
}

/** Deno's side is `deno bench`; every other runtime's is this file's harness. */
function side(runtime: Runtime): Side {
  return runtime.name === "deno"
    ? { runtime, timedBy: "deno bench's means", run: denoSide }
    : { runtime, timedBy: "medians of bench/timing.ts", run: (data) => harnessSide(runtime, data) };
}

/** True if the runtime's binary runs (this process's own always does). */
function available(runtime: Runtime): boolean {
  return runtime === current || installedVersion(runtime) !== undefined;
}

/** How each side's times were taken: `"Deno's are deno bench's means; Bun's, Node's and ..."`. */
function timedBy(sides: Side[]): string {
  const groups = new Map<string, string[]>();
  for (const { runtime, timedBy } of sides) {
    groups.set(timedBy, [...groups.get(timedBy) ?? [], `${runtime.title}'s`]);
  }
  // The native floor is timed the way the harness times.
  const harness = "medians of bench/timing.ts";
  groups.set(harness, [...groups.get(harness) ?? [], "the native floor's"]);
  return [...groups].map(([how, who]) => `${list(who)} are ${how}`).join("; ");
}

/** `"a"`, `"a and b"`, `"a, b and c"`. */
function list(items: string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function time(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(ns < 100 ? 1 : 0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(ns < 1e4 ? 2 : 1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(ns < 1e7 ? 2 : 1)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() || "unknown CPU";
  return `${os.cpus().length} CPUs (${cpu}), ${os.type()} ${os.release()}, ${os.arch()}`;
}

/** The rows of the table: one per case, runtime and peer. */
function rows(results: RuntimeResult[], floors: Floor[]): string[][] {
  const table: string[][] = [];
  for (const [index, result] of results.entries()) {
    const floor = floors[index];
    for (const item of result.cases as CaseResult[]) {
      for (const peer of item.peers) {
        // A runtime floor is the native floor plus what the runtime adds.
        const peerNs = peer.native ? floor[peer.native] + (peer.ns ?? 0) : peer.ns!;
        const ratio = item.ours.ns / peerNs;
        table.push([
          `${item.id} ${item.title}`,
          result.runtime,
          `${item.ours.label} ${time(item.ours.ns)}`,
          `${peer.label} ${time(peerNs)}`,
          `${ratio.toFixed(2)}x`,
          peer.target === undefined ? "-" : `≤ ${peer.target}x`,
          peer.target === undefined ? "-" : ratio <= peer.target ? "met" : "missed",
        ]);
      }
    }
  }
  return table;
}

function print(table: string[][]): void {
  const header = ["case", "runtime", "this library", "peer", "ratio", "target", "result"];
  const all = [header, ...table];
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column].length)));
  const line = (row: string[]) =>
    row.map((cell, column) =>
      column === 4 ? cell.padStart(widths[column]) : cell.padEnd(widths[column])
    )
      .join("  ").trimEnd();
  console.log(line(header));
  console.log(line(widths.map((width) => "─".repeat(width))));
  for (const row of table) console.log(line(row));
}

async function main(): Promise<void> {
  const started = performance.now();
  needBuilt(floorPath);
  const sizes = quick ? QUICK : FULL;
  let dir: string | null = null;
  const cleanUp = () => {
    if (dir !== null) removeData(dir);
    dir = null;
  };
  // Ctrl-C or a kill stops the child that runs and removes the data before exiting.
  const onSignal = () => {
    try {
      running?.kill("SIGKILL");
    } catch {
      // It has just exited.
    }
    cleanUp();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    console.error(`mmap bench (${quick ? "quick" : "full"}): generating data...`);
    const data = makeData(sizes);
    dir = data.dir;
    const sides: Side[] = [];
    for (const runtime of RUNTIME_NAMES.map((name) => runtimes[name])) {
      if (!asked.includes(runtime)) continue;
      if (available(runtime)) {
        sides.push(side(runtime));
      } else {
        console.error(
          `  ${binary(runtime)} not found (PATH, or ${runtime.binaryVariable}): ` +
            `the ${runtime.title} side is skipped`,
        );
      }
    }
    const results: RuntimeResult[] = [];
    const floors: Floor[] = [];
    for (const { runtime, run } of sides) {
      // The floor runs right before each runtime, so a machine that got busier or quieter in
      // between does not skew one runtime's ratios.
      console.error("  native floor...");
      floors.push(
        JSON.parse(lastLine(await child(floorPath, [data.small, ...(quick ? ["--quick"] : [])]))),
      );
      console.error(`  ${runtime.title}...`);
      results.push(await run(data, sizes));
    }
    const versions = results.map((r) => `${runtimeNamed(r.runtime).title} ${r.version}`);
    console.log(
      `mmap bench, ${quick ? "quick (small sizes; ratios are rough)" : "full"}: ` +
        `${versions.join(", ")}; ${machine()}`,
    );
    console.log(
      `Times per operation: ${timedBy(sides)}; ratio = this library's time / the peer's.`,
    );
    print(rows(results, floors));
    console.log(`(${((performance.now() - started) / 1e3).toFixed(0)} s in all)`);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    cleanUp();
  }
}

await main();
