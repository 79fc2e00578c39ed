// One line count in a process of its own, so its peak memory is its own: prints
// `progress BYTES` lines while it works, then `result {"lines", "seconds", "peakBytes",
// "baselineBytes"}`. Usage: count_child.ts mmap|read|readFile FILE
import process from "node:process";
import { countLines, type Method, METHODS } from "./lines.ts";

/** The most memory this process has held at once (the kernel's high-water mark of its RSS). */
function peakBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

const [method, path] = process.argv.slice(2);
if (!METHODS.includes(method as Method) || path === undefined) {
  console.error(`usage: count_child.ts ${METHODS.join("|")} FILE`);
  process.exit(2);
}
const baselineBytes = peakBytes();
const started = performance.now();
const lines = countLines(path, method as Method, (done) => console.log(`progress ${done}`));
const seconds = (performance.now() - started) / 1000;
console.log(`result ${JSON.stringify({ lines, seconds, peakBytes: peakBytes(), baselineBytes })}`);
