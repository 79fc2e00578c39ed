/**
 * Runs the benchmarks: generates the data, runs the native floor, the Deno side and the Bun
 * side as child processes, and prints one table of this library against each peer with the
 * ratio, the target and whether it was met. Timings never fail the run; a case that throws does.
 *
 * `deno task bench` (full sizes) or `deno task bench:quick` (small sizes, for CI); both build
 * the library and the native floor first. See bench/README.md.
 *
 * @module
 */
import * as os from "node:os";
import * as fs from "node:fs";
import { FULL, makeData, QUICK, removeData } from "./data.ts";
import type { CaseResult, RuntimeResult } from "./cases.ts";

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

async function child(command: string, args: string[]): Promise<string> {
  running = new Deno.Command(command, {
    args,
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
    return text.trim().split("\n").at(-1) ?? "";
  } finally {
    running = null;
  }
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
        const peerNs = peer.native ? floor[peer.native] : peer.ns!;
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
    const mode = quick ? ["--quick"] : [];
    const json = JSON.stringify(data);
    const sides: [string, string[]][] = [[Deno.execPath(), [
      "run",
      "--allow-ffi",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "bench/cases.ts",
      "--data",
      json,
      ...mode,
    ]]];
    if (bunAvailable()) {
      sides.push(["bun", ["run", "bench/cases.ts", "--data", json, ...mode]]);
    } else {
      console.error("  bun not found on PATH: the Bun side is skipped");
    }
    const results: RuntimeResult[] = [];
    const floors: Floor[] = [];
    for (const [command, args] of sides) {
      // The floor runs right before each runtime, so a machine that got busier or quieter in
      // between does not skew one runtime's ratios.
      console.error("  native floor...");
      floors.push(JSON.parse(await child(floorPath, [data.small, ...mode])));
      results.push(JSON.parse(await child(command, args)));
    }
    const versions = results.map((r) => `${r.runtime === "deno" ? "Deno" : "Bun"} ${r.version}`);
    console.log(
      `mmap bench, ${quick ? "quick (small sizes; ratios are rough)" : "full"}: ` +
        `${versions.join(", ")}; ${machine()}`,
    );
    console.log("Times are medians per operation; ratio = this library's time / the peer's.");
    print(rows(results, floors));
    console.log(`(${((performance.now() - started) / 1e3).toFixed(0)} s in all)`);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    cleanUp();
  }
}

await main();
