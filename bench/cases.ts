/**
 * The benchmark cases, the same file on Deno and Bun. Run by `bench/run.ts` as a child process
 * (`deno run ... bench/cases.ts` or `bun run bench/cases.ts`) with `--data JSON` (the files from
 * `bench/data.ts`) and optionally `--quick`; prints one JSON line with this runtime's results.
 *
 * @module
 */
import * as fs from "node:fs";
import process from "node:process";
import { MAP_SHARED, mmap, open, PROT_READ } from "../mod.ts";
import { native } from "../bindings/load.ts";
import { type DataSet, FULL, QUICK, READ_SIZE, type Sizes } from "./data.ts";
import { compare, type Operation, type TimingOptions } from "./timing.ts";

/** One row of a case: a way of doing the work, and how it compares with this library's. */
export interface Peer {
  label: string;
  /** Median ns per operation, or absent when `native` names the native floor's figure. */
  ns?: number;
  /** The native floor's key whose figure run.ts fills in. */
  native?: "byName" | "byFd" | "libraryByName" | "liveCount";
  /** The target: this library's time over the peer's at most this (absent: no target). */
  target?: number;
}

/** One case's results on one runtime. */
export interface CaseResult {
  id: string;
  title: string;
  /** What this library's row does, and its median ns per operation. */
  ours: { label: string; ns: number };
  peers: Peer[];
}

/** What a child process prints. */
export interface RuntimeResult {
  runtime: "deno" | "bun";
  version: string;
  cases: CaseResult[];
}

interface BunApi {
  version: string;
  mmap(path: string): Uint8Array;
  file(path: string): { bytes(): Promise<Uint8Array> };
}

const bun = (globalThis as { Bun?: BunApi }).Bun;

/** Counts newlines with `indexOf`, the same scan for every way of getting the bytes. */
function countLines(bytes: Uint8Array): number {
  let count = 0;
  let at = bytes.indexOf(10);
  while (at !== -1) {
    count++;
    at = bytes.indexOf(10, at + 1);
  }
  return count;
}

/** Sums the bytes with a plain indexed loop over the mapping (case 4). */
function sumMapped(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum += bytes[i];
  return sum;
}

/** The same loop as {@linkcode sumMapped}, a separate function so each sees one array type. */
function sumPlain(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum += bytes[i];
  return sum;
}

/** A small deterministic generator (mulberry32), so both runtimes read the same offsets. */
function offsets(count: number, limit: number): Float64Array {
  let state = 0x9e3779b9;
  const result = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    result[i] = Math.floor(((t ^ (t >>> 14)) >>> 0) / 2 ** 32 * limit);
  }
  return result;
}

function check(what: string, got: unknown, want: unknown): void {
  if (got !== want) throw new Error(`bench: ${what} gave ${got}, expected ${want}`);
}

interface Plan {
  sizes: Sizes;
  fast: TimingOptions;
  slow: TimingOptions;
}

function ns(timings: Record<string, { ns: number }>, name: string): number {
  return timings[name].ns;
}

async function mapTouchUnmap(data: DataSet, plan: Plan): Promise<CaseResult[]> {
  const fd = fs.openSync(data.small, "r");
  try {
    const candidates: Record<string, Operation> = {
      name: () => {
        const mapping = open(data.small);
        const byte = mapping[0];
        mapping.unmap();
        return byte;
      },
      fd: () => {
        const mapping = mmap(0, PROT_READ, MAP_SHARED, fd);
        const byte = mapping[0];
        mapping.unmap();
        return byte;
      },
    };
    if (bun) candidates.bun = () => bun.mmap(data.small)[0];
    check("open(small)[0]", candidates.name(), 7);
    const t = await compare(candidates, plan.fast);
    const name: CaseResult = {
      id: "1-name",
      title: "map+touch+unmap 1 MiB, by name",
      ours: { label: "open(path)", ns: ns(t, "name") },
      peers: [
        { label: "native floor", native: "byName", target: 1.3 },
        { label: "library's Rust, natively", native: "libraryByName" },
      ],
    };
    if (bun) name.peers.push({ label: "Bun.mmap(path)", ns: ns(t, "bun"), target: 0.5 });
    const byFd: CaseResult = {
      id: "1-fd",
      title: "map+touch+unmap 1 MiB, by fd",
      ours: { label: "mmap(0, R, SHARED, fd)", ns: ns(t, "fd") },
      peers: [{ label: "native floor", native: "byFd" }],
    };
    return [name, byFd];
  } finally {
    fs.closeSync(fd);
  }
}

async function scan(data: DataSet, plan: Plan): Promise<CaseResult> {
  const candidates: Record<string, Operation> = {
    mapped: () => {
      const mapping = open(data.lines);
      const lines = countLines(mapping);
      mapping.unmap();
      return lines;
    },
    node: () => countLines(fs.readFileSync(data.lines)),
  };
  if (bun) {
    candidates.bunFile = async () => countLines(await bun.file(data.lines).bytes());
  } else {
    candidates.deno = () => countLines(Deno.readFileSync(data.lines));
  }
  for (const [name, operation] of Object.entries(candidates)) {
    check(`scan (${name})`, await operation(), data.lineCount);
  }
  const t = await compare(candidates, plan.slow);
  const peers: Peer[] = bun
    ? [{ label: "Bun.file().bytes()", ns: ns(t, "bunFile"), target: 0.5 }]
    : [{ label: "Deno.readFileSync", ns: ns(t, "deno"), target: 0.5 }];
  peers.push({ label: "node:fs readFileSync", ns: ns(t, "node"), target: 0.5 });
  return {
    id: "2",
    title: `scan ${plan.sizes.scan >> 20} MiB (count newlines)`,
    ours: { label: "open(path) + scan", ns: ns(t, "mapped") },
    peers,
  };
}

async function randomReads(data: DataSet, plan: Plan): Promise<CaseResult> {
  const { reads, random: size } = plan.sizes;
  const at = offsets(reads, size - READ_SIZE);
  const mapping = open(data.random);
  const fd = fs.openSync(data.random, "r");
  const file = bun ? null : Deno.openSync(data.random);
  const buffer = new Uint8Array(READ_SIZE);
  try {
    // Fault every page in once, so all ways read from the page cache (the sparse file's pages
    // are created on first touch).
    for (let page = 0; page < mapping.length; page += 4096) buffer[0] ^= mapping[page];
    let i = 0, j = 0, k = 0;
    const candidates: Record<string, Operation> = {
      mapped: () => {
        const offset = at[i];
        i = i + 1 === reads ? 0 : i + 1;
        const view = mapping.subarray(offset, offset + READ_SIZE);
        return view[0] + view[READ_SIZE - 1];
      },
      node: () => {
        const offset = at[j];
        j = j + 1 === reads ? 0 : j + 1;
        fs.readSync(fd, buffer, 0, READ_SIZE, offset);
        return buffer[0] + buffer[READ_SIZE - 1];
      },
    };
    if (file !== null) {
      candidates.deno = () => {
        const offset = at[k];
        k = k + 1 === reads ? 0 : k + 1;
        file.seekSync(offset, Deno.SeekMode.Start);
        file.readSync(buffer);
        return buffer[0] + buffer[READ_SIZE - 1];
      };
    }
    // The same offsets through each way must read the same bytes.
    let expected = 0;
    for (let n = 0; n < Math.min(reads, 1000); n++) {
      expected += mapping[at[n]] + mapping[at[n] + READ_SIZE - 1];
    }
    for (const [name, operation] of Object.entries(candidates)) {
      let sum = 0;
      for (let n = 0; n < Math.min(reads, 1000); n++) sum += operation() as number;
      check(`random reads (${name})`, sum, expected);
    }
    i = j = k = 0;
    const t = await compare(candidates, plan.fast);
    const peers: Peer[] = [];
    if (file !== null) {
      peers.push({ label: "FsFile.seekSync+readSync", ns: ns(t, "deno"), target: 0.1 });
    }
    peers.push({ label: "node:fs readSync(position)", ns: ns(t, "node"), target: 0.1 });
    return {
      id: "3",
      title: `random 4 KiB reads, ${size >> 20} MiB file`,
      ours: { label: "mapping.subarray()", ns: ns(t, "mapped") },
      peers,
    };
  } finally {
    file?.close();
    fs.closeSync(fd);
    mapping.unmap();
  }
}

async function elementAccess(data: DataSet, plan: Plan): Promise<CaseResult> {
  const size = plan.sizes.loop;
  const mapping = open(data.lines, { length: size, populate: true });
  const plain = new Uint8Array(size);
  plain.set(mapping);
  try {
    check("loop sums", sumMapped(mapping), sumPlain(plain));
    const t = await compare({
      mapped: () => sumMapped(mapping),
      plain: () => sumPlain(plain),
    }, plan.fast);
    return {
      id: "4",
      title: `loop over ${size >> 20} MiB (sum bytes)`,
      ours: { label: "Mapping", ns: ns(t, "mapped") },
      peers: [{ label: "plain Uint8Array", ns: ns(t, "plain"), target: 1.05 }],
    };
  } finally {
    mapping.unmap();
  }
}

async function syncPage(data: DataSet, plan: Plan): Promise<CaseResult> {
  const mapping = open(data.sync, { mode: "rw" });
  const page = Math.floor(mapping.length / 4096 / 2) * 4096;
  let stamp = 0;
  try {
    const t = await compare({
      ranged: () => {
        mapping[page] = ++stamp;
        return mapping.sync({ offset: page, length: 4096 });
      },
      whole: () => {
        mapping[page] = ++stamp;
        return mapping.sync();
      },
    }, plan.fast);
    return {
      id: "5",
      title: `sync 1 dirty page of ${mapping.length >> 20} MiB`,
      ours: { label: "sync({offset, length})", ns: ns(t, "ranged") },
      peers: [{ label: "sync() whole", ns: ns(t, "whole") }],
    };
  } finally {
    mapping.unmap();
  }
}

async function ffiCall(plan: Plan): Promise<CaseResult> {
  const count = native.symbols.mmap_ffi_live_count;
  const t = await compare({ call: () => count() }, plan.fast);
  return {
    id: "6",
    title: "one cheap FFI call (live_count)",
    ours: { label: "through FFI", ns: ns(t, "call") },
    peers: [{ label: "native call", native: "liveCount" }],
  };
}

/** Runs every case on this runtime. */
export async function runCases(data: DataSet, quick: boolean): Promise<RuntimeResult> {
  const plan: Plan = quick
    ? {
      sizes: QUICK,
      fast: { batches: 7, batchMs: 40, warmupMs: 40 },
      slow: { batches: 5, batchMs: 1, warmupMs: 20 },
    }
    : {
      sizes: FULL,
      fast: { batches: 15, batchMs: 100, warmupMs: 200 },
      slow: { batches: 9, batchMs: 1, warmupMs: 300 },
    };
  const runtime = bun ? "bun" : "deno";
  const cases: CaseResult[] = [];
  const steps: [string, () => Promise<CaseResult | CaseResult[]>][] = [
    ["1 map+touch+unmap", () => mapTouchUnmap(data, plan)],
    ["2 scan", () => scan(data, plan)],
    ["3 random reads", () => randomReads(data, plan)],
    ["4 element access", () => elementAccess(data, plan)],
    ["5 sync", () => syncPage(data, plan)],
    ["6 FFI call", () => ffiCall(plan)],
  ];
  for (const [name, step] of steps) {
    const started = performance.now();
    const result = await step();
    cases.push(...(Array.isArray(result) ? result : [result]));
    console.error(`  ${runtime}: ${name} (${((performance.now() - started) / 1e3).toFixed(1)} s)`);
  }
  return { runtime, version: bun ? bun.version : Deno.version.deno, cases };
}

if (import.meta.main) {
  const args = process.argv;
  const at = args.indexOf("--data");
  if (at === -1) throw new Error("bench/cases.ts: run it through bench/run.ts (needs --data)");
  const data = JSON.parse(args[at + 1]) as DataSet;
  const result = await runCases(data, args.includes("--quick"));
  console.log(JSON.stringify(result));
}
