// The demo: counts the lines of a big text file through mappings and through plain reads (each
// in a process of its own, to measure its peak memory), looks up random lines both ways, and
// has a Deno and a Bun process share a counter through POSIX shared memory.
// Run: deno task demo [FILE]   (with no FILE it writes its own 256 MiB of text to a temp folder)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { cleanUp, cleanUpOnSignals, onCleanup } from "./cleanup.ts";
import { generateLines } from "./data.ts";
import { DESCRIPTIONS, METHODS } from "./lines.ts";
import { lookUpLines } from "./lookups.ts";
import { runScript, type Runtime, title, version } from "./runtimes.ts";
import { shareCounter } from "./shared_counter.ts";
import { formatBytes, formatCount, formatSeconds, heading, progress, table } from "./terminal.ts";

/** MiB of text to generate when no file is given (`MMAP_DEMO_MIB` overrides it). */
const DEFAULT_MIB = Number(process.env.MMAP_DEMO_MIB ?? 256);
const LOOKUPS = 100_000;
/** How many times each process adds 1 to the shared counter (`MMAP_DEMO_ADDS` overrides it). */
const ADDS_PER_PROCESS = Number(process.env.MMAP_DEMO_ADDS ?? 2_000_000);

interface CountResult {
  lines: number;
  seconds: number;
  peakBytes: number;
  baselineBytes: number;
}

/** The file to work on: the user's, or text generated in a temp folder removed at the end. */
async function chooseFile(): Promise<string> {
  const given = process.argv[2];
  if (given !== undefined) {
    const size = fs.statSync(given).size;
    if (size === 0) throw new Error(`${given} is empty; give the demo a file with some lines`);
    console.log(`Working on ${given} (${formatBytes(size)}).`);
    return given;
  }
  if (!(DEFAULT_MIB > 0 && DEFAULT_MIB <= 1 << 20)) {
    throw new Error(`MMAP_DEMO_MIB must be a number of MiB from 1 up, got ${DEFAULT_MIB}`);
  }
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-demo-"));
  onCleanup(() => fs.rmSync(folder, { recursive: true, force: true }));
  const file = path.join(folder, "lines.txt");
  console.log(`No file given: writing ${DEFAULT_MIB} MiB of text lines to ${file}`);
  await generateLines(file, DEFAULT_MIB * 1024 * 1024);
  return file;
}

async function countInChild(runtime: Runtime, method: string, file: string): Promise<CountResult> {
  const size = fs.statSync(file).size;
  const bar = progress(
    `${title(runtime)}: ${DESCRIPTIONS[method as keyof typeof DESCRIPTIONS]}`,
    size,
  );
  let result: CountResult | undefined;
  const child = await runScript(runtime, "count_child.ts", [method, file], (line) => {
    if (line.startsWith("progress ")) bar.update(Number(line.slice(9)));
    if (line.startsWith("result ")) result = JSON.parse(line.slice(7));
  });
  if (child.code !== 0 || result === undefined) {
    throw new Error(`counting with ${method} under ${title(runtime)} failed:\n${child.stderr}`);
  }
  bar.finish(`${formatCount(result.lines)} lines`);
  return result;
}

async function countLinesEveryWay(runtimes: Runtime[], file: string): Promise<void> {
  heading("1. Counting lines: through mappings vs reading (each run in a fresh process)");
  const rows: string[][] = [];
  const counts = new Set<number>();
  for (const runtime of runtimes) {
    for (const method of METHODS) {
      const result = await countInChild(runtime, method, file);
      counts.add(result.lines);
      rows.push([
        title(runtime),
        DESCRIPTIONS[method],
        formatSeconds(result.seconds),
        formatBytes(result.peakBytes),
        "+" + formatBytes(result.peakBytes - result.baselineBytes),
      ]);
    }
  }
  if (counts.size !== 1) throw new Error(`the methods disagree on the line count: ${[...counts]}`);
  console.log();
  table(["runtime", "how", "time", "peak RSS", "peak RSS added by the count"], rows);
  console.log(
    "  Peak RSS is the kernel's high-water mark for the process (getrusage). Mapped pages are\n" +
      "  the page cache itself, shared and reclaimable; readFileSync makes a private copy.",
  );
}

async function lookUpRandomLines(file: string): Promise<void> {
  heading(`2. Random lookups: the line around ${formatCount(LOOKUPS)} random offsets`);
  const { mapped, pread, span } = await lookUpLines(file, LOOKUPS);
  if (mapped.checksum !== pread.checksum) throw new Error("the two ways found different lines");
  console.log();
  table(["how", "time", "per lookup"], [
    ["one mapping, subarray()", formatSeconds(mapped.seconds), perLookup(mapped.seconds)],
    ["a read() per lookup", formatSeconds(pread.seconds), perLookup(pread.seconds)],
  ]);
  const sample = mapped.sample.length > 90 ? mapped.sample.slice(0, 87) + "..." : mapped.sample;
  console.log(
    `  Both ways found the same ${formatCount(LOOKUPS)} lines (checksums match) across ` +
      `${formatBytes(span)}. The first:\n  ${JSON.stringify(sample)}`,
  );
}

function perLookup(seconds: number): string {
  return `${(seconds / LOOKUPS * 1e6).toFixed(2)} µs`;
}

async function shareMemory(runtimes: Runtime[]): Promise<void> {
  heading(`3. Shared memory: ${runtimes.map(title).join(" and ")} add to one counter with Atomics`);
  const result = await shareCounter(runtimes, ADDS_PER_PROCESS);
  const expected = ADDS_PER_PROCESS * runtimes.length;
  console.log();
  table(
    ["process", "pid", "added", "read from the other's message slot"],
    result.workers.map((worker) => [
      worker.runtime,
      String(worker.pid),
      formatCount(worker.added),
      JSON.stringify(worker.read),
    ]),
  );
  if (result.counter !== expected) {
    throw new Error(`the counter ended at ${result.counter}, not ${expected}`);
  }
  console.log(
    `  Counter in ${result.name}: ${formatCount(result.counter)} = ` +
      `${runtimes.length} × ${formatCount(ADDS_PER_PROCESS)}. No add was lost:\n` +
      "  both processes wrote the same memory.",
  );
}

async function main(): Promise<void> {
  cleanUpOnSignals();
  const versions = { deno: version("deno"), bun: version("bun") };
  const runtimes = (["deno", "bun"] as const).filter((runtime) => versions[runtime] !== undefined);
  console.log(
    "mmap demo on " +
      runtimes.map((runtime) => `${title(runtime)} ${versions[runtime]}`).join(" and ") +
      ` (${os.platform()} ${os.arch()}, ${navigator.hardwareConcurrency} CPUs)`,
  );
  for (const runtime of ["deno", "bun"] as const) {
    if (versions[runtime] === undefined) {
      console.log(
        `(${title(runtime)} was not found; set ${runtime.toUpperCase()}_BIN to include it)`,
      );
    }
  }
  const file = await chooseFile();
  await countLinesEveryWay(runtimes, file);
  await lookUpRandomLines(file);
  await shareMemory(runtimes);
}

try {
  await main();
  cleanUp();
  console.log("\nDone; the temp files and shared memory the demo made are removed.");
} catch (error) {
  cleanUp();
  console.error(`\ndemo failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
}
