/**
 * The test shim: the same case files run under `deno test`, `bun test` and `node --test`.
 * `test` maps onto `Deno.test`, `bun:test` or `node:test`; the helpers read what the process
 * holds (`/proc/self`) and run scripts under any runtime (tests/support/runtimes.ts).
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { native } from "../bindings/load.ts";
import {
  type Access,
  binary,
  current,
  forceGc,
  others,
  type Runtime,
  type TestBody,
  type TestFunction,
} from "./support/runtimes.ts";

export { current as runtime, forceGc, others as otherRuntimes, type Runtime, type TestBody };

/**
 * Registers a test with the runtime's test runner. `timeoutMs` lifts Bun's 5-second limit per
 * test (Deno has none, and Node none by default).
 */
export const test: TestFunction = await current.testFunction();

/** The project's root directory. */
export const root: string = path.resolve(
  decodeURIComponent(new URL("..", import.meta.url).pathname),
);

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
 * goes too. `access` sets its permissions (default: all, for `/proc/self` on Deno, with `gc()`).
 */
export function runSource(
  runtime: Runtime,
  source: string,
  access: Access = { all: true, gc: true },
): ChildResult {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-test-run-"));
  try {
    const script = path.join(dir, "main.ts");
    fs.writeFileSync(script, source);
    return run(binary(runtime), runtime.scriptArgs(script, [], access), { TMPDIR: dir });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a script under a runtime, with the library's permissions and what `access` adds. */
export function runScript(
  runtime: Runtime,
  script: string,
  args: string[] = [],
  access: Access = {},
  env?: Record<string, string>,
): ChildResult {
  return run(binary(runtime), runtime.scriptArgs(script, args, access), env);
}

/** Runs a fixture script (`tests/fixtures/NAME`) under a runtime. */
export function runFixture(
  runtime: Runtime,
  name: string,
  args: string[],
  access: Access = { write: true },
  env?: Record<string, string>,
): ChildResult {
  return runScript(runtime, path.join(root, "tests", "fixtures", name), args, access, env);
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
 * The library's mappings whose file or memory is still mapped: unmap() takes one off at once
 * on every runtime.
 */
export function mappedCount(): number {
  return native.symbols.mmap_ffi_live_count() - native.symbols.mmap_ffi_retired_count();
}

/**
 * The address ranges the library still holds, unmapped (retired) ones included: each goes
 * back to the OS once the runtime lets go of its buffer, at once where its built-ins keep the
 * memory itself, else (Node) once the buffer object is collected.
 */
export function heldCount(): number {
  return native.symbols.mmap_ffi_live_count();
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
  runtime: Runtime,
  name: string,
  args: string[],
  timeoutMs = 60_000,
  access: Access = { write: true },
): RunningChild {
  const script = path.join(root, "tests", "fixtures", name);
  const child = spawn(binary(runtime), runtime.scriptArgs(script, args, access), {
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
