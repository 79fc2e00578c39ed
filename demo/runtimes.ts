/**
 * Finding Deno and Bun, and running demo scripts under either as child processes.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import process from "node:process";
import { onCleanup } from "./cleanup.ts";

/** A JavaScript runtime the demo runs code under. */
export type Runtime = "deno" | "bun";

/** The runtime running this process. */
export const current: Runtime = "Bun" in globalThis ? "bun" : "deno";

/** A runtime's display name. */
export function title(runtime: Runtime): string {
  return runtime === "deno" ? "Deno" : "Bun";
}

/**
 * The command that runs a runtime: `DENO_BIN`/`BUN_BIN` if set, this process's own binary for
 * its own runtime, else the name on PATH.
 */
export function binary(runtime: Runtime): string {
  const fromEnv = process.env[runtime === "deno" ? "DENO_BIN" : "BUN_BIN"];
  if (fromEnv) return fromEnv;
  if (runtime === current) return runtime === "deno" ? Deno.execPath() : process.execPath;
  return runtime;
}

/** The runtime's version, or `undefined` if it cannot be run. */
export function version(runtime: Runtime): string | undefined {
  try {
    const result = spawnSync(binary(runtime), ["--version"], { encoding: "utf8" });
    if (result.status !== 0) return undefined;
    return /\d+\.\d+\.\d+/.exec(result.stdout)?.[0];
  } catch {
    return undefined;
  }
}

/** A path relative to this folder. */
export function here(file: string): string {
  return decodeURIComponent(new URL(file, import.meta.url).pathname);
}

/** What a child printed and how it ended. */
export interface Finished {
  code: number | null;
  signal: string | null;
  lines: string[];
  stderr: string;
}

/**
 * Runs a demo script under a runtime (Deno gets read, FFI and env permissions) and calls
 * `onLine` for each line it prints. The child is killed if the demo is cleaned up first.
 */
export function runScript(
  runtime: Runtime,
  script: string,
  args: string[],
  onLine: (line: string) => void = () => {},
): Promise<Finished> {
  const command = runtime === "deno"
    ? ["run", "--allow-ffi", "--allow-read", "--allow-env", here(script), ...args]
    : ["run", here(script), ...args];
  // Linux hands a child spawned straight from here this process's peak RSS as its own (the
  // child execs from this process's memory), so a small shell forks it instead: then the
  // child's getrusage() peak is its own. The shell leads a process group of its own, so
  // cleanup can stop both at once.
  const child = spawn("/bin/sh", ["-c", '"$@"; exit $?', "sh", binary(runtime), ...command], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const drop = onCleanup(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // The group has already exited.
    }
  });
  const lines: string[] = [];
  let pending = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (text: string) => {
    const parts = (pending + text).split("\n");
    pending = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      onLine(line);
    }
  });
  child.stderr.on("data", (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    child.on("error", (error) => {
      drop();
      reject(error);
    });
    child.on("close", (code, signal) => {
      drop();
      if (pending !== "") {
        lines.push(pending);
        onLine(pending);
      }
      resolve({ code, signal, lines, stderr });
    });
  });
}
