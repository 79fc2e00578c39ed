// `deno task demo`: runs on its own data and on a given file under the runtime running the
// tests, counts lines and shares a counter under Deno, Bun and Node, and leaves nothing behind,
// even when stopped with SIGINT halfway.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { DESCRIPTIONS, METHODS } from "../demo/lines.ts";
import { ARRIVED, counters, SHARED_BYTES } from "../demo/shared_layout.ts";
import { remove, root, run, runtime, tempFile, tempPath, test } from "./harness.ts";
import { binary, RUNTIME_NAMES, runtimes } from "./support/runtimes.ts";

const script = path.join(root, "demo", "main.ts");
/** Each demo run starts a dozen processes; Bun's 5-second default is too short for that. */
const TIMEOUT_MS = 120_000;
/** The runtimes' display names, in the order the demo shows them. */
const TITLES = RUNTIME_NAMES.map((name) => runtimes[name].title);

function demoCommand(args: string[]): [string, string[]] {
  return [binary(runtime), runtime.scriptArgs(script, args, { write: true, run: true })];
}

/** A fresh, empty folder to be the demo's TMPDIR. */
function freshTmp(): string {
  const folder = tempPath("demo-tmp");
  fs.mkdirSync(folder);
  return folder;
}

/** Shared-memory objects a demo with this pid made and left. */
function shmLeftBy(pid: number): string[] {
  return fs.readdirSync("/dev/shm").filter((name) => name === `mmap-demo-${pid}`);
}

/** How many workers have arrived at the shared-memory object `name` (0 if it is gone). */
function workersArrived(name: string): number {
  const bytes = new Uint8Array(SHARED_BYTES);
  try {
    const fd = fs.openSync(`/dev/shm/${name}`, "r");
    try {
      fs.readSync(fd, bytes, 0, SHARED_BYTES, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return 0;
  }
  return counters(bytes)[ARRIVED];
}

/** Processes whose command line mentions `text`. */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (command.includes(text)) found.push(entry);
    } catch {
      // The process exited while we looked.
    }
  }
  return found;
}

/** The first row of a table the demo printed whose cells pass `matches`; fails naming `what`. */
function findRow(output: string, what: string, matches: (cells: string[]) => boolean): string[] {
  // Table cells are at least 3 spaces apart; spaces within a cell are single.
  const row = output.split("\n").map((line) => line.trim().split(/ {3,}/)).find(matches);
  assert.ok(row, `a row for ${what} in:\n${output}`);
  return row;
}

test("the demo runs on text it writes itself and removes it", () => {
  const tmp = freshTmp();
  try {
    const [command, args] = demoCommand([]);
    const result = run(command, args, {
      TMPDIR: tmp,
      MMAP_DEMO_MIB: "8",
      MMAP_DEMO_ADDS: "100000",
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const output = result.stdout;
    assert.match(output, /^mmap demo on Deno [\d.]+, Bun [\d.]+ and Node [\d.]+ \(/);
    for (const title of TITLES) {
      for (const method of METHODS) {
        const how = DESCRIPTIONS[method];
        const [, , time, peak, added] = findRow(
          output,
          `${title}, ${how}`,
          ([first, second]) => first === title && second === how,
        );
        assert.match(time, /^[\d.]+ s$/);
        assert.match(peak, /^[\d.]+ MiB$/);
        assert.match(added, /^\+-?[\d.]+ (bytes|KiB|MiB)$/);
      }
    }
    assert.match(output, /3\. Shared memory: Deno, Bun and Node add to one counter/);
    TITLES.forEach((title, slot) => {
      const [, pid, added, read] = findRow(
        output,
        `the ${title} worker`,
        ([first]) => first.startsWith(`${title} `),
      );
      const next = TITLES[(slot + 1) % TITLES.length];
      assert.match(pid, /^\d+$/);
      assert.equal(added, "100,000");
      assert.match(read, new RegExp(`^"hello from ${next} [\\d.]+, pid \\d+"$`));
    });
    const counter = /Counter in \/mmap-demo-(\d+): 300,000 = 3 × 100,000/.exec(output);
    assert.ok(counter, output);
    assert.deepEqual(shmLeftBy(Number(counter[1])), [], "the shared memory is removed");
    assert.deepEqual(fs.readdirSync(tmp), [], "the temp folder is removed");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, TIMEOUT_MS);

test("the demo counts the lines of a file given as its argument", () => {
  const lines = Array.from({ length: 10_000 }, (_, index) => `line ${index}`).join("\n") + "\n";
  const file = tempFile("demo-input", lines);
  try {
    const [command, args] = demoCommand([file]);
    const result = run(command, args, { MMAP_DEMO_ADDS: "1000" });
    assert.equal(result.status, 0, result.stdout + result.stderr);
    const steps = result.stdout.split("\n").map((line) => line.trim());
    for (const title of TITLES) {
      for (const method of METHODS) {
        const step = `✓ ${title}: ${DESCRIPTIONS[method]}`;
        assert.ok(
          steps.some((line) => line.startsWith(step) && line.includes(" 10,000 lines ")),
          `${step} counted 10,000 lines:\n${result.stdout}`,
        );
      }
    }
    assert.equal(fs.readFileSync(file, "utf8"), lines, "the user's file is left as it was");
  } finally {
    remove(file);
  }
}, TIMEOUT_MS);

test("SIGINT stops the demo and it removes its files, shared memory and processes", async () => {
  const tmp = freshTmp();
  const [command, args] = demoCommand([]);
  // Each process adds so many times that the demo is still sharing memory when SIGINT comes.
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, TMPDIR: tmp, MMAP_DEMO_MIB: "8", MMAP_DEMO_ADDS: "2000000000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (text: string) => (output += text));
  child.stderr.on("data", (text: string) => (output += text));
  let running = true;
  const exited = new Promise<[number | null, string | null]>((resolve) =>
    child.on("close", (code, signal) => {
      running = false;
      resolve([code, signal]);
    })
  );
  const shmName = `mmap-demo-${child.pid}`;
  try {
    // The object exists from before the workers start until the demo ends; a worker counts
    // itself in once it runs.
    while (running && workersArrived(shmName) < RUNTIME_NAMES.length) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(running, `the demo got to sharing memory:\n${output}`);
    assert.equal(fs.readdirSync(tmp).length, 1, "its temp folder exists");
    // process.kill, not child.kill: after child.kill, Deno's node:child_process reports the
    // signal it sent instead of the exit status the child chose.
    process.kill(child.pid!, "SIGINT");
    const [code, signal] = await exited;
    assert.deepEqual([code, signal], [130, null], "the handler exits with 128 + SIGINT");
    assert.match(output, /SIGINT: stopped; everything the demo created is removed/);
    assert.deepEqual(shmLeftBy(child.pid!), []);
    assert.deepEqual(fs.readdirSync(tmp), []);
    // The demo sent SIGKILL to its workers; give the kernel a moment to finish them off.
    for (let tries = 0; tries < 100 && processesMentioning(`/${shmName}`).length > 0; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(processesMentioning(`/${shmName}`), [], "no worker is left running");
  } finally {
    child.kill("SIGKILL");
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, TIMEOUT_MS);
