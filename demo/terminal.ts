/**
 * What the demo prints: progress bars (redrawn in place on a terminal, one final line
 * otherwise), tables, and byte, time and count formats.
 *
 * @module
 */
import process from "node:process";

const interactive = process.stderr.isTTY === true;
const BAR_WIDTH = 28;
const REDRAW_MS = 80;

/** A progress bar for one step; `finish()` replaces it with a line saying how long it took. */
export interface Progress {
  /** Sets how much is done, out of the total given to {@linkcode progress}. */
  update(done: number): void;
  /** Ends the bar and prints `label  detail  (time)`. */
  finish(detail?: string): void;
}

/** Starts a progress bar on stderr for a step of `total` units. */
export function progress(label: string, total: number): Progress {
  const started = performance.now();
  let drawn = 0;
  const draw = (done: number) => {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const bar = "█".repeat(filled) + "░".repeat(BAR_WIDTH - filled);
    const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
    process.stderr.write(`\r  ${label.padEnd(36)} ${bar} ${percent}`);
  };
  if (interactive) draw(0);
  return {
    update(done) {
      const now = performance.now();
      if (!interactive || now - drawn < REDRAW_MS) return;
      drawn = now;
      draw(done);
    },
    finish(detail = "") {
      const seconds = formatSeconds((performance.now() - started) / 1000);
      const line = `  ✓ ${label.padEnd(36)} ${detail}`.trimEnd();
      if (interactive) process.stderr.write("\r\x1b[2K");
      console.log(`${line}  (${seconds})`);
    },
  };
}

/** Prints a heading for a part of the demo. */
export function heading(text: string): void {
  console.log(`\n${text}`);
}

/** Prints rows as a table with a header and aligned columns (numbers right-aligned). */
export function table(header: string[], rows: string[][]): void {
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => row[column].length))
  );
  const numeric = /^[+\-]?[\d.,]+( [A-Za-zµ/]+)?$/;
  const line = (row: string[]) =>
    "  " +
    row.map((cell, column) =>
      numeric.test(cell) ? cell.padStart(widths[column]) : cell.padEnd(widths[column])
    ).join("   ").trimEnd();
  console.log(line(header));
  console.log("  " + widths.map((width) => "─".repeat(width)).join("   "));
  for (const row of rows) console.log(line(row));
}

/** Bytes as `1.5 GiB`, `256.0 MiB`, `12 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Seconds as `0.42 s` or `12.3 s`. */
export function formatSeconds(seconds: number): string {
  return seconds < 10 ? `${seconds.toFixed(2)} s` : `${seconds.toFixed(1)} s`;
}

/** A count with thousands separators: `1,234,567`. */
export function formatCount(count: number): string {
  return Math.round(count).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Items as a sentence's list: `a`, `a and b`, `a, b and c`. */
export function formatList(items: readonly string[]): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}
