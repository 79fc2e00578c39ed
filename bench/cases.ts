/**
 * The benchmark cases, the same file on Deno, Bun and Node. Each case prepares its candidates
 * (this library's way and the peers'), checks they read the same bytes, and turns their timings
 * into the table's rows. On Deno, `bench/mmap_bench.ts` hands the candidates to `deno bench`; on
 * Bun and Node, `bench/run.ts` runs this file (`bun run bench/cases.ts --data JSON [--quick]`,
 * the files from `bench/data.ts`, started as tests/support/runtimes.ts says), which times them
 * with `bench/timing.ts` and prints one JSON line of results (`deno run` works the same way).
 *
 * @module
 */
import * as fs from "node:fs";
import process from "node:process";
import { MAP_SHARED, mmap, open, PROT_READ } from "../mod.ts";
import { native } from "../bindings/load.ts";
import { current, currentVersion, type RuntimeName } from "../tests/support/runtimes.ts";
import { type DataSet, FULL, QUICK, READ_SIZE, type Sizes } from "./data.ts";
import { compare, type Operation, type TimingOptions } from "./timing.ts";

/** One row of a case: a way of doing the work, and how it compares with this library's. */
export interface Peer {
  label: string;
  /**
   * Median ns per operation; with `native`, what the runtime adds to the native floor's figure
   * (the runtime floor); absent when `native` alone gives the figure.
   */
  ns?: number;
  /** The native floor's key whose figure run.ts fills in (and adds `ns` to, if given). */
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
  /** The runtime's name in tests/support/runtimes.ts. */
  runtime: RuntimeName;
  version: string;
  cases: CaseResult[];
}

interface BunApi {
  mmap(path: string): Uint8Array;
  file(path: string): { bytes(): Promise<Uint8Array> };
}

/** Bun's own API, for its peers; undefined on the other runtimes. */
const bun = current.name === "bun" ? (globalThis as unknown as { Bun: BunApi }).Bun : undefined;

/** `process.getBuiltinModule`, which loads `bun:ffi` and `node:ffi` synchronously. */
function builtin(name: string): unknown {
  return (process as { getBuiltinModule?: (name: string) => unknown }).getBuiltinModule!(name);
}

/**
 * The runtime's own primitive for exposing `length` bytes of foreign memory at `address` as an
 * ArrayBuffer, with no release hook: what any library pays on this runtime before doing
 * anything of its own (part of the runtime floor of case 1). Each starts from the address as
 * the library's map calls give it, a number.
 */
function plainForeignBuffer(): (address: number, length: number) => ArrayBuffer {
  switch (current.name) {
    case "deno":
      return (address, length) =>
        Deno.UnsafePointerView.getArrayBuffer(
          Deno.UnsafePointer.create(BigInt(address))!,
          length,
        );
    case "bun": {
      const ffi = builtin("bun:ffi") as {
        toArrayBuffer(address: number, offset: number, length: number): ArrayBuffer;
      };
      return (address, length) => ffi.toArrayBuffer(address, 0, length);
    }
    case "node": {
      // `copy: false` wraps the memory where it is; the pointer must be a BigInt.
      const ffi = builtin("node:ffi") as {
        toArrayBuffer(pointer: bigint, length: number, copy: boolean): ArrayBuffer;
      };
      return (address, length) => ffi.toArrayBuffer(BigInt(address), length, false);
    }
  }
}

const { indexOf } = Uint8Array.prototype;

/**
 * Counts newlines with `Uint8Array.prototype.indexOf`, the same scan for every way of getting the
 * bytes: `node:fs` gives a Buffer, whose own `indexOf` is another function (native in Node,
 * where it is about 1.8x faster than V8's), which a mapping's bytes could use as well.
 */
function countLines(bytes: Uint8Array): number {
  let count = 0;
  let at = indexOf.call(bytes, 10);
  while (at !== -1) {
    count++;
    at = indexOf.call(bytes, 10, at + 1);
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

/** A case made ready to time: its candidates, which one is this library's, and its cleanup. */
export interface Prepared {
  /** The ways of doing the work, by name; each was checked to give the same answer. */
  candidates: Record<string, Operation>;
  /** The candidate that is this library's way (the baseline of a `deno bench` group). */
  ours: string;
  /** Closes and unmaps what `prepare` opened. */
  close(): void;
}

/** One benchmark case, timed by this file's harness (Bun) or by `deno bench` (Deno). */
export interface CaseDefinition {
  /** Its group name in `deno bench`. */
  id: string;
  /** Slow cases (a whole-file scan) run a few single operations per batch. */
  slow: boolean;
  /** Opens what the case needs and checks that every candidate reads the same bytes. */
  prepare(data: DataSet, sizes: Sizes): Prepared | Promise<Prepared>;
  /** The table's rows, from each candidate's time in ns per operation. */
  rows(ns: Record<string, number>, sizes: Sizes): CaseResult[];
}

const mapTouchUnmap: CaseDefinition = {
  id: "1",
  slow: false,
  prepare(data) {
    const fd = fs.openSync(data.small, "r");
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
    // The runtime floor's share: wrap 1 MiB of foreign memory (one region mapped once, its
    // first page faulted in), touch it, detach it; the native floor adds the system calls.
    const out = new Float64Array(6);
    const status = native.symbols.mmap_ffi_map_fd(1 << 20, PROT_READ, MAP_SHARED, fd, 0, out, 6);
    if (status !== 0) throw new Error(`bench: mapping the runtime floor's region: ${status}`);
    const [address, length, id] = [out[0], out[1], out[2]];
    const wrap = plainForeignBuffer();
    candidates.wrapDetach = () => {
      const buffer = wrap(address, length);
      const byte = new Uint8Array(buffer)[0];
      buffer.transfer(0);
      return byte;
    };
    check("open(small)[0]", candidates.name(), 7);
    check("the runtime floor's region", candidates.wrapDetach(), 7);
    const close = () => {
      fs.closeSync(fd);
      native.symbols.mmap_ffi_unmap(address, id, null, 0);
    };
    return { candidates, ours: "name", close };
  },
  rows(ns) {
    const name: CaseResult = {
      id: "1-name",
      title: "map+touch+unmap 1 MiB, by name",
      ours: { label: "open(path)", ns: ns.name },
      peers: [
        { label: "runtime floor", native: "byName", ns: ns.wrapDetach, target: 1.3 },
        { label: "native floor", native: "byName" },
        { label: "library's Rust, natively", native: "libraryByName" },
      ],
    };
    if (ns.bun !== undefined) {
      name.peers.push({ label: "Bun.mmap(path)", ns: ns.bun, target: 0.5 });
    }
    const byFd: CaseResult = {
      id: "1-fd",
      title: "map+touch+unmap 1 MiB, by fd",
      ours: { label: "mmap(0, R, SHARED, fd)", ns: ns.fd },
      peers: [
        { label: "runtime floor", native: "byFd", ns: ns.wrapDetach },
        { label: "native floor", native: "byFd" },
      ],
    };
    return [name, byFd];
  },
};

const scan: CaseDefinition = {
  id: "2",
  slow: true,
  async prepare(data) {
    const candidates: Record<string, Operation> = {
      mapped: () => {
        const mapping = open(data.lines);
        const lines = countLines(mapping);
        mapping.unmap();
        return lines;
      },
      node: () => countLines(fs.readFileSync(data.lines)),
    };
    // The runtime's own whole-file read, where it has one besides node:fs (Node's is node:fs).
    switch (current.name) {
      case "deno":
        candidates.deno = () => countLines(Deno.readFileSync(data.lines));
        break;
      case "bun":
        candidates.bunFile = async () => countLines(await bun!.file(data.lines).bytes());
        break;
    }
    for (const [name, operation] of Object.entries(candidates)) {
      check(`scan (${name})`, await operation(), data.lineCount);
    }
    return { candidates, ours: "mapped", close: () => {} };
  },
  rows(ns, sizes) {
    const peers: Peer[] = [];
    if (ns.deno !== undefined) peers.push({ label: "Deno.readFileSync", ns: ns.deno, target: 0.5 });
    if (ns.bunFile !== undefined) {
      peers.push({ label: "Bun.file().bytes()", ns: ns.bunFile, target: 0.5 });
    }
    peers.push({ label: "node:fs readFileSync", ns: ns.node, target: 0.5 });
    return [{
      id: "2",
      title: `scan ${sizes.scan >> 20} MiB (count newlines)`,
      ours: { label: "open(path) + scan", ns: ns.mapped },
      peers,
    }];
  },
};

const randomReads: CaseDefinition = {
  id: "3",
  slow: false,
  prepare(data, sizes) {
    const { reads, random: size } = sizes;
    const at = offsets(reads, size - READ_SIZE);
    const mapping = open(data.random);
    const fd = fs.openSync(data.random, "r");
    // Deno's own file API; Bun's and Node's positioned read is node:fs.
    const file = current.name === "deno" ? Deno.openSync(data.random) : null;
    const close = () => {
      file?.close();
      fs.closeSync(fd);
      mapping.unmap();
    };
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
      return { candidates, ours: "mapped", close };
    } catch (error) {
      close();
      throw error;
    }
  },
  rows(ns, sizes) {
    const peers: Peer[] = [];
    if (ns.deno !== undefined) {
      peers.push({ label: "FsFile.seekSync+readSync", ns: ns.deno, target: 0.1 });
    }
    peers.push({ label: "node:fs readSync(position)", ns: ns.node, target: 0.1 });
    return [{
      id: "3",
      title: `random 4 KiB reads, ${sizes.random >> 20} MiB file`,
      ours: { label: "mapping.subarray()", ns: ns.mapped },
      peers,
    }];
  },
};

const elementAccess: CaseDefinition = {
  id: "4",
  slow: false,
  prepare(data, sizes) {
    const mapping = open(data.lines, { length: sizes.loop, populate: true });
    const plain = new Uint8Array(sizes.loop);
    plain.set(mapping);
    const close = () => mapping.unmap();
    try {
      check("loop sums", sumMapped(mapping), sumPlain(plain));
    } catch (error) {
      close();
      throw error;
    }
    const candidates = { mapped: () => sumMapped(mapping), plain: () => sumPlain(plain) };
    return { candidates, ours: "mapped", close };
  },
  rows(ns, sizes) {
    return [{
      id: "4",
      title: `loop over ${sizes.loop >> 20} MiB (sum bytes)`,
      ours: { label: "Mapping", ns: ns.mapped },
      peers: [{ label: "plain Uint8Array", ns: ns.plain, target: 1.05 }],
    }];
  },
};

const syncPage: CaseDefinition = {
  id: "5",
  slow: false,
  prepare(data) {
    const mapping = open(data.sync, { mode: "rw" });
    const page = Math.floor(mapping.length / 4096 / 2) * 4096;
    let stamp = 0;
    const candidates = {
      ranged: () => {
        mapping[page] = ++stamp;
        return mapping.sync({ offset: page, length: 4096 });
      },
      whole: () => {
        mapping[page] = ++stamp;
        return mapping.sync();
      },
    };
    return { candidates, ours: "ranged", close: () => mapping.unmap() };
  },
  rows(ns, sizes) {
    return [{
      id: "5",
      title: `sync 1 dirty page of ${sizes.sync >> 20} MiB`,
      ours: { label: "sync({offset, length})", ns: ns.ranged },
      peers: [{ label: "sync() whole", ns: ns.whole }],
    }];
  },
};

const ffiCall: CaseDefinition = {
  id: "6",
  slow: false,
  prepare() {
    const count = native.symbols.mmap_ffi_live_count;
    return { candidates: { call: () => count() }, ours: "call", close: () => {} };
  },
  rows(ns) {
    return [{
      id: "6",
      title: "one cheap FFI call (live_count)",
      ours: { label: "through FFI", ns: ns.call },
      peers: [{ label: "native call", native: "liveCount" }],
    }];
  },
};

/** Every case, in the table's order. */
export const CASES: readonly CaseDefinition[] = [
  mapTouchUnmap,
  scan,
  randomReads,
  elementAccess,
  syncPage,
  ffiCall,
];

/** The harness's timing options for a case. */
function timing(definition: CaseDefinition, quick: boolean): TimingOptions {
  if (definition.slow) {
    return quick
      ? { batches: 5, batchMs: 1, warmupMs: 20 }
      : { batches: 9, batchMs: 1, warmupMs: 300 };
  }
  return quick
    ? { batches: 7, batchMs: 40, warmupMs: 40 }
    : { batches: 15, batchMs: 100, warmupMs: 200 };
}

/** Runs every case on this runtime with this file's harness, and returns the table's rows. */
export async function runCases(data: DataSet, quick: boolean): Promise<CaseResult[]> {
  const sizes = quick ? QUICK : FULL;
  const rows: CaseResult[] = [];
  for (const definition of CASES) {
    const started = performance.now();
    const prepared = await definition.prepare(data, sizes);
    try {
      const timings = await compare(prepared.candidates, timing(definition, quick));
      const ns = Object.fromEntries(Object.entries(timings).map(([name, t]) => [name, t.ns]));
      rows.push(...definition.rows(ns, sizes));
    } finally {
      prepared.close();
    }
    const seconds = ((performance.now() - started) / 1e3).toFixed(1);
    console.error(`  ${current.name}: case ${definition.id} (${seconds} s)`);
  }
  return rows;
}

if (import.meta.main) {
  const args = process.argv;
  const at = args.indexOf("--data");
  if (at === -1) throw new Error("bench/cases.ts: run it through bench/run.ts (needs --data)");
  const data = JSON.parse(args[at + 1]) as DataSet;
  const cases = await runCases(data, args.includes("--quick"));
  const result: RuntimeResult = { runtime: current.name, version: currentVersion, cases };
  console.log(JSON.stringify(result));
}
