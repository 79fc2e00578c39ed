// The demo: counts the lines of a big text file through mappings and through plain reads (each
// in a process of its own, to measure its peak memory) under Deno, Bun and Node, looks up random
// lines both ways, and has a Deno, a Bun and a Node process share a counter through POSIX shared
// memory. Runtimes that are not installed are left out.
// Run: deno task demo [FILE]   (with no FILE it writes its own 256 MiB of text to a temp folder)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import {
  installedVersion,
  type Runtime,
  RUNTIME_NAMES,
  runtimes,
} from "../tests/support/runtimes.ts";
import { runScript } from "./children.ts";
import { cleanUp, cleanUpOnSignals, onCleanup } from "./cleanup.ts";
import { generateLines } from "./data.ts";
import { DESCRIPTIONS, METHODS } from "./lines.ts";
import { lookUpLines } from "./lookups.ts";
import { shareCounter } from "./shared_counter.ts";
import {
  formatBytes,
  formatCount,
  formatList,
  formatSeconds,
  heading,
  progress,
  table,
} from "./terminal.ts";

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
    `${runtime.title}: ${DESCRIPTIONS[method as keyof typeof DESCRIPTIONS]}`,
    size,
  );
  let result: CountResult | undefined;
  const child = await runScript(runtime, "count_child.ts", [method, file], (line) => {
    if (line.startsWith("progress ")) bar.update(Number(line.slice(9)));
    if (line.startsWith("result ")) result = JSON.parse(line.slice(7));
  });
  if (child.code !== 0 || result === undefined) {
    throw new Error(`counting with ${method} under ${runtime.title} failed:\n${child.stderr}`);
  }
  bar.finish(`${formatCount(result.lines)} lines`);
  return result;
}

async function countLinesEveryWay(installed: readonly Runtime[], file: string): Promise<void> {
  heading("1. Counting lines: through mappings vs reading (each run in a fresh process)");
  const rows: string[][] = [];
  const counts = new Set<number>();
  for (const runtime of installed) {
    for (const method of METHODS) {
      const result = await countInChild(runtime, method, file);
      counts.add(result.lines);
      rows.push([
        runtime.title,
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

async function shareMemory(installed: readonly Runtime[]): Promise<void> {
  const titles = formatList(installed.map((runtime) => runtime.title));
  heading(`3. Shared memory: ${titles} add to one counter with Atomics`);
  const result = await shareCounter(installed, ADDS_PER_PROCESS);
  const expected = ADDS_PER_PROCESS * installed.length;
  console.log();
  table(
    ["process", "pid", "added", "read from the next process's message slot"],
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
      `${installed.length} × ${formatCount(ADDS_PER_PROCESS)}. No add was lost:\n` +
      "  every process wrote the same memory.",
  );
}

/** Says which runtimes the demo runs on, and how to add any it did not find; returns them. */
function introduceRuntimes(): Runtime[] {
  const probed = RUNTIME_NAMES.map((name) => ({
    runtime: runtimes[name],
    version: installedVersion(runtimes[name]),
  }));
  const installed = probed.filter(({ version }) => version !== undefined);
  console.log(
    "mmap demo on " +
      formatList(installed.map(({ runtime, version }) => `${runtime.title} ${version}`)) +
      ` (${os.platform()} ${os.arch()}, ${navigator.hardwareConcurrency} CPUs)`,
  );
  for (const { runtime, version } of probed) {
    if (version === undefined) {
      console.log(`(${runtime.title} was not found; set ${runtime.binaryVariable} to include it)`);
    }
  }
  return installed.map(({ runtime }) => runtime);
}

async function main(): Promise<void> {
  cleanUpOnSignals();
  const installed = introduceRuntimes();
  const file = await chooseFile();
  await countLinesEveryWay(installed, file);
  await lookUpRandomLines(file);
  await shareMemory(installed);
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
