/**
 * The test shim: the same case files run under `deno test` and `bun test`. `test` maps onto
 * `Deno.test` or `bun:test`; the helpers read what the process holds (`/proc/self`) and run
 * the other runtime.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";

/** A test body. */
export type TestBody = () => void | Promise<void>;

/** The runtime running the tests. */
export const runtime: "deno" | "bun" = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined"
  ? "bun"
  : "deno";

/** The other runtime, for cross-process tests. */
export const otherRuntime: "deno" | "bun" = runtime === "bun" ? "deno" : "bun";

const bunTestModule = "bun:test";

/**
 * Registers a test with the runtime's test runner. `timeoutMs` lifts Bun's 5-second limit per
 * test (Deno has none).
 */
export const test: (name: string, body: TestBody, timeoutMs?: number) => void = runtime === "bun"
  ? (await import(bunTestModule)).test
  : (name, body) => Deno.test(name, body);

/** The project's root directory. */
export const root: string = path.resolve(
  decodeURIComponent(new URL("..", import.meta.url).pathname),
);

/** The command that runs a runtime: `DENO_BIN`/`BUN_BIN` if set, else the name on PATH. */
export function runtimeBinary(which: "deno" | "bun"): string {
  return process.env[which === "deno" ? "DENO_BIN" : "BUN_BIN"] ?? which;
}

/** The arguments that run a script under a runtime with what this library needs. */
export function scriptCommand(which: "deno" | "bun", script: string, args: string[]): string[] {
  return which === "deno"
    ? ["run", "--allow-ffi", "--allow-read", "--allow-write", "--allow-env", script, ...args]
    : ["run", script, ...args];
}

/** The result of a finished child process. */
export interface ChildResult {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion (with a time limit) in `cwd` (default: the project's root) and
 * returns what it printed.
 */
export function run(
  command: string,
  args: string[],
  env?: Record<string, string>,
  cwd: string = root,
): ChildResult {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
    env: env ? { ...process.env, ...env } : process.env,
  });
  if (result.error) throw result.error;
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
  };
}

/**
 * Runs a TypeScript program (given as source) under a runtime with its own temp directory as
 * `TMPDIR`, then removes that directory, so whatever the program leaves in the temp directory
 * goes too.
 */
export function runSource(
  which: "deno" | "bun",
  source: string,
  runtimeArgs: string[] = [],
): ChildResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-test-run-"));
  try {
    const script = path.join(dir, "main.ts");
    fs.writeFileSync(script, source);
    // --allow-all (which Deno needs for /proc/self/maps) replaces the usual permission flags.
    const all = runtimeArgs.includes("--allow-all");
    const command = scriptCommand(which, script, [])
      .filter((arg) => !(all && arg.startsWith("--allow-")));
    command.splice(1, 0, ...runtimeArgs);
    return run(runtimeBinary(which), command, { TMPDIR: dir });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a fixture script (`tests/fixtures/NAME`) under a runtime. */
export function runFixture(which: "deno" | "bun", name: string, args: string[]): ChildResult {
  const script = path.join(root, "tests", "fixtures", name);
  return run(runtimeBinary(which), scriptCommand(which, script, args));
}

let counter = 0;

/** A fresh path in the temp directory (nothing is created). */
export function tempPath(tag: string): string {
  counter += 1;
  return path.join(os.tmpdir(), `mmap-test-${process.pid}-${tag}-${counter}-${Date.now()}`);
}

/** A unique shared-memory name. */
export function shmName(tag: string): string {
  counter += 1;
  return `/mmap-test-${process.pid}-${tag}-${counter}`;
}

/** Creates a temp file with these bytes and returns its path. */
export function tempFile(tag: string, bytes: Uint8Array | string): string {
  const file = tempPath(tag);
  fs.writeFileSync(file, bytes);
  return file;
}

/** Removes a file if it exists. */
export function remove(file: string): void {
  fs.rmSync(file, { force: true });
}

/** Lines of `/proc/self/maps` that map this file. */
export function mappingsOf(file: string): number {
  return fs.readFileSync("/proc/self/maps", "utf8").split("\n").filter((line) =>
    line.endsWith(` ${file}`)
  ).length;
}

/** All lines of `/proc/self/maps`. */
export function mappingCount(): number {
  return fs.readFileSync("/proc/self/maps", "utf8").split("\n").length;
}

/** Open file descriptors of this process. */
export function fdCount(): number {
  return fs.readdirSync("/proc/self/fd").length;
}

/** Open file descriptors of this process that point at `file`. */
export function fdsOf(file: string): number {
  let count = 0;
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === file) count += 1;
    } catch {
      // The descriptor used to list the directory is gone by now.
    }
  }
  return count;
}

/** Resident memory of this process in bytes. */
export function rssBytes(): number {
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? "0");
  return kib * 1024;
}

/**
 * Runs a garbage collection now: a full one, or a young-generation one (`"minor"`), as
 * ordinary allocation would. Finalizers run on a later turn of the event loop.
 */
export function forceGc(kind: "full" | "minor" = "full"): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  const gc = (globalThis as { gc?: (options?: { type: string }) => void }).gc;
  if (bun) bun.gc(kind === "full");
  // gc() without an argument is V8's precise full collection; with any argument (even
  // undefined) it parses options and runs a regular one, which may keep what the stack seems
  // to reference.
  else if (gc) kind === "full" ? gc() : gc({ type: "minor" });
  else throw new Error("run Deno with --v8-flags=--expose-gc");
}

/** Runs a full garbage collection and lets finalizers run. */
export async function collectGarbage(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    forceGc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Runs `body` expecting it to throw an instance of `kind`; returns the error. */
export function throwsKind<E extends Error>(
  body: () => unknown,
  kind: abstract new (...args: never[]) => E,
): E {
  try {
    body();
  } catch (error) {
    if (error instanceof kind) return error;
    throw new Error(`expected ${kind.name}, got ${error}`, { cause: error });
  }
  throw new Error(`expected ${kind.name}, but nothing was thrown`);
}

/** A child process started by {@linkcode startFixture}, running on its own. */
export interface RunningChild {
  /** The child's process id. */
  readonly pid: number;
  /** Resolves with the first line the child prints that satisfies `match`. */
  line(match: (line: string) => boolean): Promise<string>;
  /** Sends a signal to the child. */
  kill(signal: NodeJS.Signals): void;
  /** Resolves once the child has exited, with what it printed. */
  readonly done: Promise<ChildResult>;
}

/**
 * Starts a fixture script (`tests/fixtures/NAME`) under a runtime without waiting for it, so
 * several run at once or one can be killed midway. It is killed after `timeoutMs`.
 */
export function startFixture(
  which: "deno" | "bun",
  name: string,
  args: string[],
  timeoutMs = 60_000,
): RunningChild {
  const script = path.join(root, "tests", "fixtures", name);
  const child = spawn(runtimeBinary(which), scriptCommand(which, script, args), {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  const lines: string[] = [];
  let partial = "";
  child.stdout.on("data", (chunk: string) => {
    stdout += chunk;
    const parts = (partial + chunk).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      for (const waiter of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  child.stderr.on("data", (chunk: string) => stderr += chunk);
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
  return {
    pid: child.pid ?? -1,
    line: (match) =>
      Promise.race([
        new Promise<string>((resolve) => {
          const seen = lines.find(match);
          if (seen === undefined) waiters.push({ match, resolve });
          else resolve(seen);
        }),
        done.then((result) => {
          throw new Error(`the child exited before printing the line: ${JSON.stringify(result)}`);
        }),
      ]),
    kill: (signal) => child.kill(signal),
    done,
  };
}
