/**
 * Running demo scripts as child processes under any runtime of the runtime table
 * (tests/support/runtimes.ts), each in a process group of its own that cleanup can stop.
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import { binary, type Runtime } from "../tests/support/runtimes.ts";
import { onCleanup } from "./cleanup.ts";

/** The path of a file in this folder. */
function here(file: string): string {
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
 * Runs a demo script (a path relative to this folder) under a runtime, with what the library
 * needs, and calls `onLine` for each line it prints. The child is killed if the demo is cleaned
 * up first.
 */
export function runScript(
  runtime: Runtime,
  script: string,
  args: string[],
  onLine: (line: string) => void = () => {},
): Promise<Finished> {
  const command = [binary(runtime), ...runtime.scriptArgs(here(script), args)];
  // Linux hands a child spawned straight from here this process's peak RSS as its own (the
  // child execs from this process's memory), so a small shell forks it instead: then the
  // child's getrusage() peak is its own. The shell leads a process group of its own, so
  // cleanup can stop both at once.
  const child = spawn("/bin/sh", ["-c", '"$@"; exit $?', "sh", ...command], {
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
