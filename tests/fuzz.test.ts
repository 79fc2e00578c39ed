// Model-based fuzzing of the whole API with fast-check: random sequences of commands (map by
// fd, name, shared memory or anonymous through the node API and the modern API; read, write,
// sync, flush, unmap twice, use after unmap, advise, protect, lock, residency, resize; start an
// asynchronous fs.write, fs.read, digest or pbkdf2 on a mapping and await it later, drop a
// mapping, collect garbage) with random and hostile arguments. After every command and every
// sequence:
// - every failure is a TypeError, a RangeError, or an Error, each with a stable `code`;
// - every byte read equals a model of what was written (files and shared memory as the kernel
//   keeps them, private copies as this mapping wrote them);
// - the files and the shared-memory object hold exactly the model's bytes;
// - once the sequence unmaps what is left, no mapping, descriptor or registry entry remains.
// The process never dying is the test finishing at all.
//
// CI runs a fixed seed and a bounded number of runs; `deno task fuzz` runs more with a random
// seed. MMAP_FUZZ_RUNS, MMAP_FUZZ_SEED (a number or "random") and MMAP_FUZZ_COMMANDS (per
// sequence) override them; a failure prints its seed and path, MMAP_FUZZ_PATH with that seed
// replays just that case, MMAP_FUZZ_TRACE=1 prints each command with the registry's size, and
// MMAP_FUZZ_SHRINK=1 shrinks it.
import assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import * as fs from "node:fs";
import process from "node:process";
import fc from "fast-check";
import mmap, {
  ADVICE,
  anonymous,
  MAP_ANON,
  MAP_PRIVATE,
  MAP_SHARED,
  type MappedBuffer,
  type Mapping,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
  open,
  PAGESIZE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  shm,
  windows,
} from "../mod.ts";
import { native } from "../bindings/load.ts";
import { forceGc, runtime, shmName, tempPath, test } from "./harness.ts";

/** `deno task fuzz` sets MMAP_FUZZ_LONG: 20,000 sequences from a random seed. */
const LONG = process.env.MMAP_FUZZ_LONG !== undefined;
const RUNS = Number(process.env.MMAP_FUZZ_RUNS ?? (LONG ? 20_000 : 1000));
const SEED_TEXT = process.env.MMAP_FUZZ_SEED ?? (LONG ? "random" : "20261128");
const SEED = SEED_TEXT === "random" ? Math.floor(Math.random() * 2 ** 31) : Number(SEED_TEXT);
const MAX_COMMANDS = Number(process.env.MMAP_FUZZ_COMMANDS ?? 24);
const TRACE = process.env.MMAP_FUZZ_TRACE !== undefined;

const P = PAGESIZE;
/** The files start this long: two pages and a part. */
const FILE_SIZE = 2 * P + 300;

// ---------------------------------------------------------------------------------------------
// Arguments: mostly plausible, some hostile.

const HOSTILE: unknown[] = [
  -1,
  -P,
  0.5,
  P + 0.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53,
  2 ** 64,
  -(2 ** 31),
  "4096",
  "",
  null,
  {},
  [],
  [P],
  true,
  10n,
  Symbol("hostile"),
  () => 1,
];

const hostile = fc.constantFrom(...HOSTILE);
/** A byte count: small and plausible (within, at or past the end of a file), or hostile. */
const size = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 * P + 400 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, P - 1, P, P + 1, FILE_SIZE, FILE_SIZE + 1, 3 * P) },
  { weight: 1, arbitrary: hostile },
);
/** A page-aligned offset for the node API, sometimes unaligned or hostile. */
const pageOffset = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 0, P, 2 * P, 3 * P) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 * P }) },
  { weight: 1, arbitrary: hostile },
);
/** Any byte offset for the modern API. */
const byteOffset = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: FILE_SIZE + 10 }) },
  { weight: 1, arbitrary: hostile },
);
const protection = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      PROT_READ,
      PROT_READ | PROT_WRITE,
      PROT_READ | PROT_WRITE,
      PROT_NONE,
      PROT_READ | PROT_EXEC,
      PROT_WRITE,
    ),
  },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), hostile) },
);
const mapFlags = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(MAP_SHARED, MAP_PRIVATE) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom(MAP_SHARED | MAP_PRIVATE, 0, MAP_SHARED | 0x10, MAP_SHARED | MAP_ANON),
      fc.integer(),
      hostile,
    ),
  },
);
const flag = fc.oneof({ weight: 8, arbitrary: fc.boolean() }, { weight: 1, arbitrary: hostile });
/** An option bag: the keys asked for, each maybe left out, plus sometimes an unknown key. */
function options(keys: Record<string, fc.Arbitrary<unknown>>) {
  return fc.oneof(
    { weight: 8, arbitrary: fc.record(keys, { requiredKeys: [] }) },
    { weight: 1, arbitrary: fc.constantFrom(undefined, null, 5, "rw", [], { bogus: 1 }) },
  );
}
const mode = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("r", "rw", "copy") },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom("w", "RW", ""), hostile) },
);
const range = options({ offset: byteOffset, length: size });
const SAFE_ADVICE = Object.keys(ADVICE).filter((name) => name !== "wipeonfork");
const advice = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...SAFE_ADVICE) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom("bogus", "", -1, 999), hostile) },
);
const protectArg = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("none", "r", "rw", "rx", "rwx", "rw", "r") },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom("w", PROT_READ | PROT_WRITE), hostile) },
);
const syncArgs = fc.oneof(
  fc.tuple(),
  fc.tuple(byteOffset),
  fc.tuple(byteOffset, size),
  fc.tuple(
    byteOffset,
    size,
    fc.oneof(
      fc.constantFrom(MS_SYNC, MS_ASYNC, MS_SYNC | MS_INVALIDATE, MS_SYNC | MS_ASYNC),
      hostile,
    ),
  ),
  fc.tuple(options({ offset: byteOffset, length: size, async: flag, invalidate: flag })),
);
const source = fc.constantFrom("file0", "file1", "shm", "anon", "missing");
const handle = fc.nat({ max: 40 });
const position = fc.oneof(
  { weight: 8, arbitrary: fc.nat({ max: 3 * P + 400 }) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, NaN, 2 ** 40) },
);

/** One command of a sequence: its name and arguments. */
type Command = { [K in keyof typeof ARBITRARIES]: { name: K; args: ArgsOf<K> } }[
  keyof typeof ARBITRARIES
];
type ArgsOf<K extends keyof typeof ARBITRARIES> = (typeof ARBITRARIES)[K] extends
  fc.Arbitrary<infer A> ? A : never;

/** The commands table: how each command's arguments are drawn. */
const ARBITRARIES = {
  nodeMap: fc.record({
    source,
    via: fc.constantFrom("name", "fd"),
    n_bytes: size,
    prot: protection,
    flags: mapFlags,
    offset: pageOffset,
  }),
  nodeShm: fc.record({ n_bytes: size, prot: protection, flags: mapFlags, offset: pageOffset }),
  open: fc.record({
    source: fc.constantFrom("file0", "file1", "missing"),
    options: options({
      mode,
      offset: byteOffset,
      length: size,
      size,
      populate: flag,
      lock: flag,
    }),
  }),
  anonymous: fc.record({
    size,
    options: options({ shared: flag, populate: flag, lock: flag }),
  }),
  shmOpen: fc.record({
    size,
    options: options({ create: flag, exclusive: flag, mode: fc.constantFrom(0o600, 0o640, -1) }),
  }),
  windows: fc.record({
    source: fc.constantFrom("file0", "file1", "missing"),
    options: options({ size, mode, offset: byteOffset, length: size }),
    keep: fc.boolean(),
  }),
  read: fc.record({ handle, at: position }),
  write: fc.record({ handle, at: position, value: fc.nat({ max: 255 }) }),
  fill: fc.record({ handle, value: fc.nat({ max: 255 }) }),
  sync: fc.record({ handle, args: syncArgs }),
  flush: fc.record({
    handle,
    options: options({ offset: byteOffset, length: size, invalidate: flag }),
  }),
  unmap: fc.record({ handle, dispose: fc.boolean() }),
  advise: fc.record({ handle, advice, range }),
  protect: fc.record({ handle, protection: protectArg }),
  lock: fc.record({ handle, unlock: fc.boolean(), range }),
  residency: fc.record({
    handle,
    options: options({ offset: byteOffset, length: size, bitmap: flag }),
  }),
  resize: fc.record({ handle, length: size }),
  replace: fc.record({
    source: fc.constantFrom("file0", "file1", "shm"),
    size: fc.integer({ min: 1, max: 4 * P }),
  }),
  unlink: fc.record({ name: fc.oneof(fc.constant("own"), hostile, fc.constantFrom("/", "a/b")) }),
  asyncStart: fc.record({
    handle,
    op: fc.constantFrom("write", "read", "digest", "pbkdf2"),
    whole: fc.boolean(),
    at: fc.nat({ max: 3 * P }),
  }),
  drop: fc.record({ handle }),
  collect: fc.nat({ max: 19 }), // 0: a full collection, else a minor one
  awaitAsync: fc.constant(null),
};

/** How often each command is drawn: mapping often enough that the others have targets. */
const WEIGHTS: Partial<Record<keyof typeof ARBITRARIES, number>> = {
  nodeMap: 4,
  open: 4,
  anonymous: 2,
  nodeShm: 2,
  shmOpen: 2,
  read: 4,
  write: 4,
  unmap: 2,
  asyncStart: 3,
};

const command: fc.Arbitrary<Command> = fc.oneof(
  ...Object.entries(ARBITRARIES).map(([name, arbitrary]) => ({
    weight: WEIGHTS[name as keyof typeof ARBITRARIES] ?? 1,
    arbitrary: (arbitrary as fc.Arbitrary<unknown>).map((args) => ({ name, args }) as Command),
  })),
);

// ---------------------------------------------------------------------------------------------
// The model.

/** Bytes the kernel keeps for a file or a shared-memory object. */
interface Backing {
  readonly path: string; // where fs can read it (/dev/shm/NAME for shared memory)
  bytes: Uint8Array;
  /** The name now leads to another file (replaced by rename, or unlinked and made again). */
  replaced?: boolean;
}

/** A mapping of the modern API, or the node API's Buffer form of one. */
type AnyMapping = Mapping | MappedBuffer;

/** One mapping the sequence made, and what is known of its bytes. */
interface Handle {
  readonly mapping: AnyMapping;
  /** The file or object whose bytes the mapping shows (null: anonymous). */
  readonly backing: Backing | null;
  /** Writes go to the backing (MAP_SHARED of a file or object); else they stay here. */
  readonly shared: boolean;
  /** Where byte 0 of the mapping lies in the backing. */
  readonly start: number;
  /** Bytes this mapping wrote privately (private and anonymous mappings). */
  readonly own: Map<number, number>;
  /** Pages (of the mapping's address space) whose bytes are no longer predictable. */
  readonly unknown: Set<number>;
  /** Private pages copied on write (their other bytes are a snapshot, not the backing). */
  readonly copied: Set<number>;
  /** Asynchronous operations started on it and not yet awaited. */
  busy: number;
  /** Of those, reads into it (they may still write into it after unmap()). */
  reading: number;
  /** unmap() came while a read into it was running: what its zero pages hold is unknown. */
  readAfterUnmap?: boolean;
  /**
   * Bytes written after unmap() into a buffer that could not be detached (one a built-in had
   * pinned, on Bun): they land in the zero pages that replaced the file's.
   */
  readonly retired: Map<number, number>;
}

/** What a sequence runs against: its files, its shared-memory object, its mappings. */
interface World {
  files: { file0: Backing; file1: Backing; missing: Backing };
  readonly shmName: string;
  shm: Backing | null;
  readonly handles: Handle[];
  readonly fds: number[];
  /** Asynchronous operations not yet awaited (each settles without throwing). */
  readonly pending: Promise<void>[];
  /** Files the asynchronous operations wrote. */
  readonly sinks: string[];
  /**
   * Buffers whose memory waits for the runtime to let go: of mappings dropped without unmap(),
   * and of mappings unmapped while their buffer could not be detached (immutable, or pinned by
   * a built-in on Bun).
   */
  readonly lingering: WeakRef<ArrayBufferLike>[];
}

const stats = { runs: 0, commands: 0, calls: 0, failures: {} as Record<string, number> };

/** Counts a call into the library and checks how it failed, if it did. */
function call<T>(body: () => T): { ok: true; value: T } | { ok: false; error: Error } {
  stats.calls++;
  try {
    return { ok: true, value: body() };
  } catch (error) {
    return { ok: false, error: expectedFailure(error) };
  }
}

async function callAsync<T>(
  body: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: Error }> {
  stats.calls++;
  try {
    return { ok: true, value: await body() };
  } catch (error) {
    return { ok: false, error: expectedFailure(error) };
  }
}

/**
 * Every failure must be a TypeError, a RangeError, or an Error, each with a stable code: an OS
 * error's (`E...`) or the library's own (`ERR_MMAP_...`).
 */
function expectedFailure(error: unknown): Error {
  if (error instanceof assert.AssertionError) throw error;
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== "string" || !/^(E[A-Z0-9]+|ERR_MMAP_[A-Z_]+)$/.test(code)) {
    throw new Error(`no stable error code (${code}): ${error}`, { cause: error });
  }
  // The TypeScript side checks every argument, so the native side never sees a bad one; and a
  // panic caught at the boundary is a bug too.
  if (code === "ERR_MMAP_INVALID_ARGUMENT" || code === "ERR_MMAP_INTERNAL") {
    throw new Error(`the native side refused or failed: ${error}`, { cause: error });
  }
  const kind = error instanceof TypeError
    ? "TypeError"
    : error instanceof RangeError
    ? "RangeError"
    : error instanceof Error && typeof (error as { code?: unknown }).code === "string"
    ? (error as unknown as { code: string }).code
    : null;
  if (kind === null) throw new Error(`unexpected failure: ${error}`, { cause: error });
  stats.failures[kind] = (stats.failures[kind] ?? 0) + 1;
  return error as Error;
}

function page(index: number): number {
  return Math.floor(index / P);
}

/** How many pages `length` bytes span. */
function pages(length: number): number {
  return Math.ceil(length / P);
}

function readable(mapping: AnyMapping): boolean {
  return (mapping.protection & (PROT_READ | PROT_WRITE)) !== 0;
}

function writable(mapping: AnyMapping): boolean {
  return (mapping.protection & PROT_WRITE) !== 0 && !mapping.immutable;
}

/** Grows a backing's model to the file's size (mapping with PROT_WRITE may grow the file). */
function refresh(backing: Backing): void {
  if (backing.replaced) return;
  const size = fs.statSync(backing.path).size;
  assert.ok(size >= backing.bytes.length, `${backing.path} shrank to ${size}`);
  if (size > backing.bytes.length) {
    const grown = new Uint8Array(size);
    grown.set(backing.bytes);
    backing.bytes = grown;
  }
}

/** What byte `index` of the handle should read, or undefined if it cannot be known. */
function expected(handle: Handle, index: number): number | undefined {
  if (handle.unknown.has(page(index))) return undefined;
  const own = handle.own.get(index);
  if (own !== undefined) return own;
  if (handle.backing === null) return 0;
  if (handle.copied.has(page(index))) return undefined;
  return handle.backing.bytes[handle.start + index] ?? 0;
}

function adopt(
  world: World,
  mapping: AnyMapping,
  backing: Backing | null,
  start: number,
  options?: unknown,
): void {
  if (backing) refresh(backing);

  const shared = backing !== null && mapping.shared;
  world.handles.push({
    mapping,
    backing,
    shared,
    start,
    own: new Map(),
    unknown: new Set(),
    copied: new Set(),
    busy: 0,
    reading: 0,
    retired: new Map(),
  });
  const handle = world.handles.at(-1)!;
  const { populate, lock } = (options ?? {}) as { populate?: unknown; lock?: unknown };
  if (populate === true || lock === true) copyAll(handle);
  check(handle);
}

/** Reads a few bytes of a mapping and compares them with the model. */
function check(handle: Handle): void {
  const { mapping } = handle;
  if (!mapping.mapped || !readable(mapping) || mapping.length === 0) return;
  const last = mapping.length - 1;
  for (const index of [0, last, Math.floor(last / 2), Math.min(last, P), Math.min(last, P - 1)]) {
    const want = expected(handle, index);
    if (want !== undefined) {
      assert.equal(mapping[index], want, `byte ${index} of ${describe(handle)}`);
    }
  }
}

function describe(handle: Handle): string {
  const { mapping } = handle;
  return `${mapping.path ?? "anonymous"} (${mapping.mode}, offset ${mapping.offset}, length ` +
    `${mapping.length}, protection ${mapping.protection}, immutable ${mapping.immutable})`;
}

function backingOf(world: World, name: "file0" | "file1" | "shm" | "anon" | "missing") {
  if (name === "shm") return shmBacking(world);
  return name === "anon" ? null : world.files[name];
}

function pathOf(world: World, name: "file0" | "file1" | "shm" | "anon" | "missing"): string {
  if (name === "shm") return world.shmName;
  return name === "anon" ? "" : world.files[name].path;
}

function shmBacking(world: World): Backing {
  world.shm ??= { path: `/dev/shm${world.shmName}`, bytes: new Uint8Array(0) };
  return world.shm;
}

/** Writes one byte through a handle and updates the model. */
function store(handle: Handle, index: number, value: number): void {
  handle.mapping[index] = value;
  if (handle.shared) {
    handle.backing!.bytes[handle.start + index] = value;
  } else {
    handle.own.set(index, value);
    if (handle.backing !== null && !handle.copied.has(page(index))) {
      // The first write copies the page: its other bytes keep what the backing had then.
      handle.copied.add(page(index));
    }
  }
}

/** Compares every backing file with its model. */
function checkBackings(world: World): void {
  for (const backing of [...Object.values(world.files), world.shm]) {
    if (backing === null || backing.replaced || !fs.existsSync(backing.path)) continue;
    refresh(backing);
    const actual = new Uint8Array(fs.readFileSync(backing.path));
    if (!Buffer.from(actual).equals(Buffer.from(backing.bytes))) {
      const at = actual.findIndex((byte, i) => byte !== backing.bytes[i]);
      assert.fail(`${backing.path} differs from the model at byte ${at}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running the commands.

async function execute(world: World, { name, args }: Command): Promise<void> {
  stats.commands++;
  const pick = (index: number) => world.handles[index % Math.max(1, world.handles.length)];
  switch (name) {
    case "nodeMap": {
      if (args.source === "shm") return; // map_shm is its own command
      const target = pathOf(world, args.source);
      let fd: number | string = target;
      if (args.source === "anon") fd = -1;
      else if (args.via === "fd") {
        if (!fs.existsSync(target)) return;
        fd = fs.openSync(target, "r+");
        world.fds.push(fd);
      }
      const result = call(() =>
        mmap(
          args.n_bytes as number,
          args.prot as number,
          // Hostile flags (a BigInt, a string) go to the library as they are.
          (args.source === "anon" && typeof args.flags === "number"
            ? args.flags | MAP_ANON
            : args.flags) as number,
          fd,
          args.offset as number,
        )
      );
      if (result.ok) {
        const backing = backingOf(world, args.source);
        adopt(world, result.value, backing, result.value.offset);
      }
      return;
    }
    case "nodeShm": {
      const result = call(() =>
        mmap.map_shm(
          args.n_bytes as number,
          args.prot as number,
          args.flags as number,
          world.shmName,
          args.offset as number,
        )
      );
      if (result.ok) adopt(world, result.value, shmBacking(world), result.value.offset);
      return;
    }
    case "open": {
      const result = call(() =>
        open(pathOf(world, args.source), args.options as Parameters<typeof open>[1])
      );
      if (result.ok) {
        const backing = backingOf(world, args.source);
        adopt(world, result.value, backing, result.value.offset, args.options);
      }
      return;
    }
    case "anonymous": {
      const result = call(() =>
        anonymous(args.size as number, args.options as Parameters<typeof anonymous>[1])
      );
      if (result.ok) adopt(world, result.value, null, 0, args.options);
      return;
    }
    case "shmOpen": {
      const result = call(() =>
        shm.open(
          world.shmName,
          args.size as number,
          args.options as Parameters<typeof shm.open>[2],
        )
      );
      if (result.ok) adopt(world, result.value, shmBacking(world), 0);
      return;
    }
    case "windows": {
      const backing = backingOf(world, args.source);
      const result = call(() => {
        let total = 0;
        for (
          const window of windows(
            pathOf(world, args.source),
            args.options as never,
          )
        ) {
          total += window.length;
          if (backing !== null) {
            refresh(backing);
            for (const index of [0, window.length - 1]) {
              if (window.length > 0 && readable(window)) {
                assert.equal(window[index], backing.bytes[window.offset + index] ?? 0);
              }
            }
          }
          if (args.keep) adopt(world, window.keep(), backing, window.offset);
        }
        return total;
      });
      if (result.ok) assert.ok(result.value >= 0);
      return;
    }
    case "read": {
      const handle = pick(args.handle);
      if (handle === undefined) return;
      const { mapping } = handle;
      if (!mapping.mapped) {
        const value = mapping[args.at];
        if ((mapping.buffer as ArrayBuffer).detached) {
          assert.equal(value, undefined, "a read after unmap");
        } else if (!handle.readAfterUnmap) {
          // Not detached (immutable, or pinned by a built-in): zero pages, or what was written
          // into them since (by this model; a read still running may write there too).
          const want = handle.retired.get(args.at) ?? 0;
          assert.ok(value === undefined || value === want, `read ${value} after unmap`);
        }
        return;
      }
      if (!readable(mapping)) return; // PROT_NONE: the OS would kill the process (documented)
      const value = mapping[args.at];
      if (!Number.isInteger(args.at) || args.at < 0 || args.at >= mapping.length) {
        assert.equal(value, undefined);
        return;
      }
      const want = expected(handle, args.at);
      if (want !== undefined) assert.equal(value, want, `byte ${args.at} of ${describe(handle)}`);
      return;
    }
    case "write": {
      const handle = pick(args.handle);
      if (handle === undefined) return;
      const { mapping } = handle;
      if (!mapping.mapped) {
        if (mapping.immutable) return;
        mapping[args.at] = args.value;
        if ((mapping.buffer as ArrayBuffer).detached) {
          assert.equal(mapping[args.at], undefined, "a write after unmap is ignored");
        } else if (mapping[args.at] !== undefined) {
          handle.retired.set(args.at, args.value); // harmless: a zero page of its own
        }
        return;
      }
      if (mapping.immutable && readable(mapping)) {
        const before = mapping[0];
        assert.throws(() => {
          mapping[0] = (before + 1) & 255;
        }, TypeError);
        assert.equal(mapping[0], before);
        return;
      }
      if (!writable(mapping)) return; // SIGSEGV by design of the OS (documented)
      if (!Number.isInteger(args.at) || args.at < 0 || args.at >= mapping.length) {
        mapping[args.at] = args.value; // out of range: ignored
        return;
      }
      store(handle, args.at, args.value);
      return;
    }
    case "fill": {
      const handle = pick(args.handle);
      if (handle === undefined || !handle.mapping.mapped || !writable(handle.mapping)) return;
      const { mapping } = handle;
      mapping.fill(args.value);
      for (let i = 0; i < mapping.length; i++) store(handle, i, args.value);
      return;
    }
    case "sync": {
      const handle = pick(args.handle);
      if (handle === undefined) return;
      const { mapping } = handle;
      const result = call(() =>
        (mapping.sync as (...a: unknown[]) => boolean)(...(args.args as unknown[]))
      );
      if (result.ok) {
        assert.equal(result.value, mapping.mapped);
        if (handle.shared) checkBackings(world);
      }
      return;
    }
    case "flush": {
      const handle = pick(args.handle);
      if (handle === undefined) return;
      const { mapping } = handle;
      const wasMapped = mapping.mapped;
      const result = await callAsync(() =>
        mapping.flush(args.options as Parameters<Mapping["flush"]>[0])
      );
      if (result.ok) assert.equal(result.value, wasMapped);
      return;
    }
    case "unmap": {
      const handle = pick(args.handle);
      if (handle === undefined) return;
      const { mapping } = handle;
      const wasMapped = mapping.mapped;
      if (args.dispose) {
        const result = call(() => mapping[Symbol.dispose]());
        assert.ok(result.ok);
      } else {
        const result = call(() => mapping.unmap());
        assert.ok(result.ok);
        assert.equal(result.value, wasMapped, "unmap() is true once, then false");
      }
      assert.equal(mapping.mapped, false);
      if (handle.reading > 0) handle.readAfterUnmap = true;
      // Detached at once, unless immutable or pinned by a built-in still using it (Bun).
      if (wasMapped && !mapping.immutable && handle.busy === 0) assert.equal(mapping.length, 0);
      if (wasMapped && !(mapping.buffer as ArrayBuffer).detached) {
        world.lingering.push(new WeakRef(mapping.buffer));
      }
      return;
    }
    case "advise": {
      const handle = pick(args.handle);
      if (handle === undefined) return;
      const { mapping } = handle;
      const result = call(() =>
        mapping.advise(args.advice as string, args.range as Parameters<Mapping["advise"]>[1])
      );
      if (!result.ok) return;
      const [start, count] = rangeOf(args.range, mapping.length);
      if (count === 0) return;
      const advice = args.advice as string | number;
      if (advice === "populate_write" || advice === ADVICE.populate_write) copyAll(handle);
      const destructive = ["dontneed", "free", "remove"].includes(advice as string) ||
        [ADVICE.dontneed, ADVICE.free, ADVICE.remove].includes(advice as number);
      if (!destructive) return;
      // Pages dropped from a private mapping read the backing (or zeros) again, or (free)
      // maybe not yet; pages removed from a shared file are zeros in the file too.
      for (let p = page(start); p <= page(start + count - 1); p++) {
        if (!handle.shared) handle.unknown.add(p);
      }
      if (handle.shared && (advice === "remove" || advice === ADVICE.remove)) {
        // Private mappings of the same file see the hole too, except in their copied pages.
        const bytes = handle.backing!.bytes;
        const from = Math.floor((handle.start + start) / P) * P;
        const to = Math.min(bytes.length, Math.ceil((handle.start + start + count) / P) * P);
        bytes.fill(0, from, to);
      }
      return;
    }
    case "protect": {
      const handle = pick(args.handle);
      // Taking access away under a running operation would fault in the runtime's own thread:
      // the OS makes that unavoidable (README), so the model does not do it.
      if (handle === undefined || handle.busy > 0) return;
      call(() => handle.mapping.protect(args.protection as Parameters<Mapping["protect"]>[0]));
      return;
    }
    case "lock": {
      const handle = pick(args.handle);
      if (handle === undefined) return;
      const where = args.range as Parameters<Mapping["lock"]>[0];
      const result = call(() =>
        args.unlock ? handle.mapping.unlock(where) : handle.mapping.lock(where)
      );
      if (result.ok && !args.unlock) copyAll(handle);
      return;
    }
    case "residency": {
      const handle = pick(args.handle);
      if (handle === undefined) return;
      const result = call(() =>
        handle.mapping.residency(args.options as Parameters<Mapping["residency"]>[0])
      );
      if (result.ok) {
        const { pages, resident, bitmap } = result.value;
        assert.ok(pages >= resident && resident >= 0);
        if (bitmap) assert.equal(bitmap.length, pages);
      }
      return;
    }
    case "resize": {
      const handle = pick(args.handle);
      if (handle === undefined) return;
      const { mapping } = handle;
      const result = call(() => mapping.resize(args.length as number));
      if (!result.ok) return;
      assert.equal(mapping.mapped, false, "resize() unmaps the old mapping");
      if (handle.reading > 0) handle.readAfterUnmap = true;
      if (!(mapping.buffer as ArrayBuffer).detached) {
        world.lingering.push(new WeakRef(mapping.buffer)); // pinned by a built-in, or immutable
      }
      const next = result.value;
      assert.equal(next.length, args.length);
      // Where resize maps the file anew (an immutable buffer), it maps what the name leads to now.
      const backing = handle.backing?.replaced
        ? [...Object.values(world.files), world.shm].find((b) =>
          b && !b.replaced && b.path === handle.backing!.path
        ) ?? null
        : handle.backing;
      if (backing) refresh(backing);
      const moved: Handle = {
        ...handle,
        backing,
        mapping: next,
        // The kernel keeps whole pages: bytes past the new length in its last page keep what
        // they held (and show again if the mapping grows back); later pages are dropped.
        own: new Map([...handle.own].filter(([index]) => page(index) < pages(next.length))),
        unknown: new Set([...handle.unknown].filter((p) => p < pages(next.length))),
        copied: new Set([...handle.copied].filter((p) => p < pages(next.length))),
        busy: 0,
        reading: 0,
        retired: new Map(),
      };
      world.handles.push(moved);
      check(moved);
      return;
    }
    case "replace": {
      // Another file takes the name (an editor's save: write a new file, rename it over), or
      // the shared-memory object is unlinked and made again. Mappings keep the old one.
      const old = args.source === "shm" ? world.shm : world.files[args.source];
      const path = args.source === "shm" ? `/dev/shm${world.shmName}` : old!.path;
      const bytes = initialBytes(args.size).subarray(0, args.size);
      const fresh = `${path}.new`;
      fs.writeFileSync(fresh, bytes);
      fs.renameSync(fresh, path);
      if (old) old.replaced = true;
      const backing: Backing = { path, bytes: Uint8Array.from(bytes) };
      if (args.source === "shm") world.shm = backing;
      else world.files[args.source] = backing;
      return;
    }
    case "unlink": {
      const name = args.name === "own" ? world.shmName : args.name;
      call(() => shm.unlink(name as string));
      return;
    }
    case "asyncStart": {
      const handle = pick(args.handle);
      if (handle === undefined) return;
      startAsync(world, handle, args);
      return;
    }
    case "drop": {
      // Forget a mapping without unmap(): the runtime frees it once collected, even with an
      // operation still running on it.
      const handle = pick(args.handle);
      if (handle === undefined) return;
      world.handles.splice(world.handles.indexOf(handle), 1);
      if (handle.mapping.mapped) world.lingering.push(new WeakRef(handle.mapping.buffer));
      return;
    }
    case "collect": {
      // Mostly the young-generation collections that ordinary allocation brings, where a
      // dropped buffer usually dies; now and then a full one.
      forceGc(args === 0 ? "full" : "minor");
      await new Promise((resolve) => setTimeout(resolve, 0));
      return;
    }
    case "awaitAsync": {
      await Promise.all(world.pending.splice(0));
      return;
    }
  }
}

/**
 * Starts an asynchronous built-in on a mapping (all of it, or a part) without awaiting it:
 * writing it to a file, reading a file into it, hashing it. The commands that follow may
 * unmap, resize, drop or collect it meanwhile; each operation must still settle, with a value
 * or an expected error, and the process must live.
 */
function startAsync(world: World, handle: Handle, args: ArgsOf<"asyncStart">): void {
  const { mapping } = handle;
  if (!mapping.mapped || mapping.length === 0 || !readable(mapping)) return;
  const from = args.whole ? 0 : Math.min(args.at, mapping.length - 1);
  const view = args.whole ? mapping : mapping.subarray(from);
  const length = view.length; // the view reads length 0 once unmap() detaches it
  let operation: Promise<unknown>;
  switch (args.op) {
    case "write": {
      const sink = tempPath("fuzz-sink");
      world.sinks.push(sink);
      const fd = fs.openSync(sink, "w");
      operation = new Promise<number>((resolve, reject) =>
        fs.write(fd, view, 0, length, 0, (error, written) => {
          fs.closeSync(fd);
          if (error) reject(error);
          else resolve(written);
        })
      ).then((written) => assert.ok(written <= length, `wrote ${written} of ${length}`));
      break;
    }
    case "read": {
      // Into private memory only: a read into a shared mapping would change the file by an
      // amount the model cannot know once an unmap() cuts it short.
      if (!writable(mapping) || handle.shared) return;
      for (let p = page(from); p <= page(mapping.length - 1); p++) handle.unknown.add(p);
      const fd = fs.openSync(world.files.file1.path, "r");
      operation = new Promise<number>((resolve, reject) =>
        fs.read(fd, view, 0, length, 0, (error, read) => {
          fs.closeSync(fd);
          if (error) reject(error);
          else resolve(read);
        })
      ).then((read) => assert.ok(read <= length, `read ${read} of ${length}`));
      break;
    }
    case "digest":
      operation = crypto.subtle.digest("SHA-256", view).then((hash) => {
        assert.equal(hash.byteLength, 32);
      });
      break;
    case "pbkdf2":
      operation = new Promise<Buffer>((resolve, reject) =>
        nodeCrypto.pbkdf2(view, "salt", 1, 16, "sha256", (error, key) => {
          if (error) reject(error);
          else resolve(key);
        })
      ).then((key) => assert.equal(key.length, 16));
      break;
  }
  stats.calls++;
  const reads = args.op === "read" ? 1 : 0;
  handle.busy++;
  handle.reading += reads;
  world.pending.push(
    operation.then(() => {}, (error) => void expectedFailure(error)).finally(() => {
      handle.busy--;
      handle.reading -= reads;
    }),
  );
}

/**
 * Populating or locking a private writable mapping faults its pages in for writing, which
 * copies them: from then on they are a snapshot, not the backing.
 */
function copyAll(handle: Handle): void {
  if (handle.shared || handle.backing === null || !writable(handle.mapping)) return;
  for (let p = 0; p <= page(Math.max(0, handle.mapping.length - 1)); p++) handle.copied.add(p);
}

/** The [offset, length] a valid range option bag selects in a mapping of `size` bytes. */
function rangeOf(bag: unknown, size: number): [number, number] {
  const { offset = 0, length } = (bag ?? {}) as { offset?: number; length?: number };
  return [offset, length ?? Math.max(0, size - offset)];
}

/** Checks every mapping and backing (not inline in the async sequence: see unmapAll). */
function checkAll(world: World): void {
  for (const handle of world.handles) check(handle);
  checkBackings(world);
}

/**
 * Unmaps what the sequence left mapped and closes its descriptors. Not inline in the async
 * sequence: a suspended async function's frame can keep its last temporaries (a mapping) alive.
 */
function unmapAll(world: World): void {
  for (const { mapping } of world.handles) {
    if (!mapping.mapped) continue;
    assert.equal(mapping.unmap(), true);
    if (!(mapping.buffer as ArrayBuffer).detached) {
      world.lingering.push(new WeakRef(mapping.buffer));
    }
  }
  world.handles.length = 0;
  for (const fd of world.fds) fs.closeSync(fd);
}

/** Lingering buffers the runtime has not collected yet. */
function uncollected(world: World): number {
  return world.lingering.filter((buffer) => buffer.deref() !== undefined).length;
}

/**
 * Collects garbage until the registry is back to `live` entries, but for lingering buffers the
 * runtime still holds (Bun's collector scans stacks conservatively and may keep one a while),
 * or 50 rounds. A `WeakRef` keeps its target alive until the end of the job that read it, so
 * each collection runs in a later job than the last look.
 */
async function settle(world: World, live: number): Promise<void> {
  const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let round = 0; round < 50; round++) {
    if (native.symbols.mmap_ffi_live_count() <= live) return;
    await tick(0);
    forceGc(round < 2 ? "minor" : "full"); // a young buffer needs no full collection
    await tick(round < 5 ? 0 : 10);
    if (native.symbols.mmap_ffi_live_count() <= live + uncollected(world)) return;
  }
}

/**
 * This process's descriptors of the tests' files and shared-memory objects (not what a runtime
 * opens as it goes: Bun dups stdout the first time a test prints).
 */
function fdList(): string[] {
  const targets: string[] = [];
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.includes("mmap-test-")) targets.push(`${fd} ${target}`);
    } catch {
      // the descriptor that listed the directory
    }
  }
  return targets;
}

/** Lines of /proc/self/maps naming one of these paths. */
function mappedLines(paths: string[]): string[] {
  return fs.readFileSync("/proc/self/maps", "utf8").split("\n").filter((line) =>
    paths.some((path) => line.endsWith(` ${path}`) || line.endsWith(` ${path} (deleted)`))
  );
}

/** How many mappings these lines show: lock() or protect() on part of one splits it in two. */
function mappingsIn(lines: string[]): number {
  const ranges = lines.map((line) => line.split(" ")[0].split("-").map((hex) => parseInt(hex, 16)))
    .sort((a, b) => a[0] - b[0]);
  return ranges.filter((range, i) => i === 0 || ranges[i - 1][1] !== range[0]).length;
}

function initialBytes(seed: number): Uint8Array {
  return Uint8Array.from({ length: Math.max(FILE_SIZE, seed) }, (_, i) => (i * 7 + seed) & 255);
}

async function runSequence(commands: Command[]): Promise<void> {
  stats.runs++;
  const files = {
    file0: { path: tempPath("fuzz0"), bytes: initialBytes(1) },
    file1: { path: tempPath("fuzz1"), bytes: initialBytes(2) },
    missing: { path: tempPath("fuzz-missing"), bytes: new Uint8Array(0) },
  };
  fs.writeFileSync(files.file0.path, files.file0.bytes);
  fs.writeFileSync(files.file1.path, files.file1.bytes);
  const world: World = {
    files,
    shmName: shmName("fuzz"),
    shm: null,
    handles: [],
    fds: [],
    pending: [],
    sinks: [],
    lingering: [],
  };
  const fds = fdList();
  const live = native.symbols.mmap_ffi_live_count();
  const paths = [
    files.file0.path,
    files.file1.path,
    files.missing.path,
    `/dev/shm${world.shmName}`,
  ];
  try {
    for (const command of commands) {
      await execute(world, command);
      if (TRACE) {
        const args = JSON.stringify(command.args, (_, v) => typeof v === "bigint" ? `${v}n` : v);
        console.log(
          `${command.name} ${args} -> registry ` +
            `${native.symbols.mmap_ffi_live_count()}, handles ${world.handles.length}`,
        );
      }
      // An unlinked object is gone from /dev/shm; a new one may be made under the name.
      if (world.shm && !fs.existsSync(world.shm.path)) {
        world.shm.replaced = true;
        world.shm = null;
      }
    }
    await Promise.all(world.pending.splice(0));
    checkAll(world);
  } finally {
    await Promise.allSettled(world.pending.splice(0));
    unmapAll(world);
    // A buffer that cannot be detached (Deno's immutable "r", one Bun pinned) lets go of the
    // file at unmap(), and its address range goes with the buffer, once collected.
    await settle(world, live);
    try {
      checkBackings(world);
      // A mapping the runtime has collected is gone from the registry and the process; one it
      // still holds may stay (a dropped one with its file mapped) until it lets go.
      const held = uncollected(world);
      const lines = mappedLines(paths);
      assert.ok(
        mappingsIn(lines) <= held,
        `mappings left: ${lines.join("; ")} (${held} lingering)`,
      );
      assert.ok(
        native.symbols.mmap_ffi_live_count() <= live + held,
        `registry entries left: ${native.symbols.mmap_ffi_live_count()} with ${live} before ` +
          `and ${held} lingering`,
      );
      assert.deepEqual(fdList(), fds, "descriptors left");
    } finally {
      for (const path of [...paths.slice(0, 3), ...world.sinks]) fs.rmSync(path, { force: true });
      if (fs.existsSync(`/dev/shm${world.shmName}`)) shm.unlink(world.shmName);
    }
  }
}

test(`fuzz: ${RUNS} random command sequences (seed ${SEED})`, async () => {
  const started = performance.now();
  await fc.assert(
    fc.asyncProperty(
      fc.array(command, { minLength: 1, maxLength: MAX_COMMANDS, size: "max" }),
      runSequence,
    ),
    {
      numRuns: RUNS,
      seed: SEED,
      path: process.env.MMAP_FUZZ_PATH,
      endOnFailure: process.env.MMAP_FUZZ_SHRINK === undefined,
    },
  );
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `fuzz ${runtime.name}: seed ${SEED}, ${stats.runs} sequences, ${stats.commands} commands, ` +
      `${stats.calls} calls in ${seconds} s; failures by kind: ${JSON.stringify(stats.failures)}`,
  );
  assert.ok(stats.calls > stats.runs, "the sequences called the library");
}, 24 * 3600_000);
