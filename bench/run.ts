/**
 * Runs the benchmarks: generates the data, runs the native floor, the Deno side (`deno bench`
 * on bench/mmap_bench.ts) and the Bun side (bench/cases.ts) as child processes, and prints one
 * table of this library against each peer with the ratio, the target and whether it was met.
 * Timings never fail the run; a case that throws does.
 *
 * `deno task bench` (full sizes) or `deno task bench:quick` (small sizes, for CI); both build
 * the library and the native floor first. See bench/README.md.
 *
 * @module
 */
import * as os from "node:os";
import * as fs from "node:fs";
import { type DataSet, FULL, makeData, QUICK, removeData, type Sizes } from "./data.ts";
import { type CaseResult, CASES, type RuntimeResult } from "./cases.ts";

const quick = Deno.args.includes("--quick");
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

/** The last line a child printed: the JSON of the floor and of the Bun side. */
function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) ?? "";
}

/** What `deno bench --json` prints, as far as it is read here. */
interface DenoBenchReport {
  runtime: string;
  benches: { group: string; name: string; results: { ok?: { avg: number } }[] }[];
}

/**
 * The Deno side: `deno bench --json bench/mmap_bench.ts` times each case's candidates (their
 * mean ns per operation, `deno bench`'s headline figure), and each case turns them into rows.
 */
async function denoSide(data: DataSet, sizes: Sizes): Promise<RuntimeResult> {
  const args = ["bench", "--json", "--allow-ffi", "--allow-read", "--allow-write", "--allow-env"];
  const env = { MMAP_BENCH_DATA: JSON.stringify(data), MMAP_BENCH_QUICK: quick ? "1" : "0" };
  const report = JSON.parse(
    await child(Deno.execPath(), [...args, "bench/mmap_bench.ts"], env),
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
  return { runtime: "deno", version: Deno.version.deno, cases };
}

/** The Bun side: `bench/cases.ts` under Bun, timed by `bench/timing.ts`. */
async function bunSide(data: DataSet): Promise<RuntimeResult> {
  const args = [
    "run",
    "bench/cases.ts",
    "--data",
    JSON.stringify(data),
    ...(quick ? ["--quick"] : []),
  ];
  return JSON.parse(lastLine(await child("bun", args)));
}

function bunAvailable(): boolean {
  try {
    return new Deno.Command("bun", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
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
    const sides: [string, () => Promise<RuntimeResult>][] = [
      ["deno bench", () => denoSide(data, sizes)],
    ];
    if (bunAvailable()) {
      sides.push(["bun", () => bunSide(data)]);
    } else {
      console.error("  bun not found on PATH: the Bun side is skipped");
    }
    const results: RuntimeResult[] = [];
    const floors: Floor[] = [];
    for (const [name, side] of sides) {
      // The floor runs right before each runtime, so a machine that got busier or quieter in
      // between does not skew one runtime's ratios.
      console.error("  native floor...");
      floors.push(
        JSON.parse(lastLine(await child(floorPath, [data.small, ...(quick ? ["--quick"] : [])]))),
      );
      console.error(`  ${name}...`);
      results.push(await side());
    }
    const versions = results.map((r) => `${r.runtime === "deno" ? "Deno" : "Bun"} ${r.version}`);
    console.log(
      `mmap bench, ${quick ? "quick (small sizes; ratios are rough)" : "full"}: ` +
        `${versions.join(", ")}; ${machine()}`,
    );
    console.log(
      "Times per operation: Deno's are deno bench's means, Bun's and the native floor's the " +
        "medians of bench/timing.ts; ratio = this library's time / the peer's.",
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
