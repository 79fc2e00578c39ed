/**
 * The native calls and their marshalling: the out slots, names encoded as UTF-8, and each
 * call's status turned into an error by {@linkcode failure}. Everything above this file sees
 * plain `{ address, length, id }` records and exceptions.
 *
 * @module
 */
import { native } from "../bindings/load.ts";
import { abi } from "./constants.ts";
import { failure, type FailureContext } from "./errors.ts";

/** A mapping as the native registry knows it. Id 0: an empty mapping, no memory behind it. */
export interface Live {
  readonly address: number;
  readonly id: number;
}

/** A new mapping: where it is, how long, and its id. */
export interface Mapped extends Live {
  readonly length: number;
}

/** The empty mapping (no memory): for an empty file or range. */
export const EMPTY: Mapped = Object.freeze({ address: 0, length: 0, id: 0 });

/** The out slots every synchronous call writes; one array, reused (calls never overlap). */
const out = new Float64Array(abi.OUT_SLOTS);

const symbols = native.symbols;
const encoder = new TextEncoder();

/** Where names are encoded for the native calls; reused (calls never overlap), grown on need. */
let nameBuffer = new Uint8Array(1024);

/**
 * Encodes `text` as UTF-8 into the reused name buffer and returns its length in bytes, so
 * mapping by name allocates nothing per call. Valid until the next call.
 */
function encodeName(text: string): number {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit.
  if (text.length * 3 > nameBuffer.length) nameBuffer = new Uint8Array(text.length * 3);
  return encoder.encodeInto(text, nameBuffer).written;
}

/** Throws the error for a failed status, with what the call was doing. */
function check(status: number, context: Omit<FailureContext, "out"> = {}): void {
  if (status !== 0) throw failure(status, { ...context, out });
}

/** Out slot `index` (the array has all OUT_SLOTS of them). */
function slot(index: number): number {
  return out[index] ?? Number.NaN;
}

/** The mapping a successful map call wrote to the out slots. */
function mapped(): Mapped {
  return { address: slot(abi.OUT_ADDRESS), length: slot(abi.OUT_LENGTH), id: slot(abi.OUT_ID) };
}

/** What to map, and how to open it. */
export interface MapRequest {
  /**
   * A file opened by name (`fd`, a regular file), a shared-memory object by name, a caller's
   * descriptor (`fd`, anything mappable), or no file.
   */
  readonly kind: "file" | "shm" | "fd" | "anonymous";
  /** The file path or shared-memory name (for `file` and `shm`), for messages and `shm_open`. */
  readonly path: string | null;
  /** The `PROT_*` bits to map with. */
  readonly protection: number;
  /** The `MAP_*` flags. */
  readonly flags: number;
  /** Where to start in the file (any byte offset). */
  readonly offset: number;
  /** Bytes to map; 0 maps to the end of the file. */
  readonly length: number;
  /** `OPEN_*` bits for a name (`file`, `shm`). */
  readonly openFlags?: number;
  /** Grow the file or object to this size first (0: never). */
  readonly growTo?: number;
  /** Permission bits of a shared-memory object created. */
  readonly permissions?: number;
  /** The descriptor (`file`: the one opened by name; `fd`: the caller's). */
  readonly fd?: number;
  /** Give an empty mapping for an empty file (or an offset at its end) instead of an error. */
  readonly emptyIsFine?: boolean;
}

/** Maps what `request` describes; every map call goes through here. */
export function map(request: MapRequest): Mapped {
  const { kind, protection, flags, offset, length } = request;
  const fd = request.fd ?? -1;
  const growTo = request.growTo ?? 0;
  let status: number;
  if (kind === "anonymous" || kind === "fd") {
    status = symbols.mmap_ffi_map_fd(length, protection, flags, fd, offset, out, out.length);
  } else if (kind === "file") {
    status = symbols.mmap_ffi_map_file(
      fd,
      length,
      protection,
      flags,
      offset,
      growTo,
      out,
      out.length,
    );
  } else {
    const size = encodeName(request.path ?? "");
    status = symbols.mmap_ffi_map_shm(
      nameBuffer,
      size,
      length,
      protection,
      flags,
      offset,
      request.openFlags ?? 0,
      request.permissions ?? 0o600,
      growTo,
      out,
      out.length,
    );
  }
  if (status === abi.STATUS_EMPTY_FILE && request.emptyIsFine) return EMPTY;
  const path = request.path ?? undefined;
  check(status, { path, fd: kind === "fd" ? fd : undefined, offset, length });
  return mapped();
}

/** Removes a shared-memory object's name. */
export function unlinkShm(name: string): void {
  const size = encodeName(name);
  check(symbols.mmap_ffi_shm_unlink(nameBuffer, size, out, out.length), { path: name });
}

/** Flushes a range of a mapping to its file (`msync`). */
export function sync(live: Live, offset: number, length: number, flags: number): void {
  check(symbols.mmap_ffi_sync(live.address, live.id, offset, length, flags, out, out.length));
}

/** Flushes a range on another thread where the runtime can; the mapping is held meanwhile. */
export async function syncOffThread(
  live: Live,
  offset: number,
  length: number,
  flags: number,
): Promise<void> {
  const slots = new Float64Array(abi.OUT_SLOTS);
  const status = await symbols.mmap_ffi_sync_nonblocking(
    live.address,
    live.id,
    offset,
    length,
    flags,
    slots,
    slots.length,
  );
  if (status !== 0) throw failure(status, { out: slots });
}

/** Gives the kernel advice about a range (`madvise`). */
export function advise(live: Live, offset: number, length: number, advice: number): void {
  check(symbols.mmap_ffi_advise(live.address, live.id, offset, length, advice, out, out.length));
}

/**
 * How {@linkcode lock} treats a range: unlock it, lock it, or lock it as its pages are read
 * (so a private mapping that only reads keeps the file's pages instead of copying each one).
 */
export type Locking = "unlock" | "lock" | "lock-reading";

const LOCKING: Readonly<Record<Locking, number>> = { unlock: 0, lock: 1, "lock-reading": 2 };

/** Locks or unlocks a range in memory; `hint` is added to an OS failure's message. */
export function lock(
  live: Live,
  offset: number,
  length: number,
  how: Locking,
  hint?: string,
): void {
  const status = symbols.mmap_ffi_lock(
    live.address,
    live.id,
    offset,
    length,
    LOCKING[how],
    out,
    out.length,
  );
  check(status, { hint });
}

/** Changes the protection of a whole mapping (`mprotect`). */
export function protect(live: Live, protection: number): void {
  check(symbols.mmap_ffi_protect(live.address, live.id, protection, out, out.length));
}

/** How many pages of a range are resident, and which (one byte a page in `pages`). */
export function residency(
  live: Live,
  offset: number,
  length: number,
  pages: Uint8Array,
): { pages: number; resident: number } {
  const status = symbols.mmap_ffi_residency(
    live.address,
    live.id,
    offset,
    length,
    pages,
    pages.length,
    out,
    out.length,
  );
  check(status);
  return { pages: slot(abi.OUT_LENGTH), resident: slot(abi.OUT_COUNT) };
}

/** Where a mapping being resized comes from: a file (opened by name, `fd`), an object, memory. */
export interface ResizeSource {
  readonly kind: "file" | "shm" | "anonymous";
  /** The path or shared-memory name. */
  readonly path: string | null;
  /** The file's descriptor (`file`; open for writing if it is to grow). */
  readonly fd?: number;
}

/**
 * Starts resizing: a new mapping of `length` bytes, with the old one untouched. When `moves`
 * is true, the new mapping gets the data from {@linkcode move}, called once the old mapping's
 * buffer was let go of.
 */
export function resize(
  live: Live,
  length: number,
  source: ResizeSource,
  growTo: number,
  context: Omit<FailureContext, "out">,
): { mapped: Mapped; moves: boolean } {
  const kind = source.kind === "file"
    ? abi.SOURCE_DESCRIPTOR
    : source.kind === "shm"
    ? abi.SOURCE_SHM
    : abi.SOURCE_ANONYMOUS;
  const named = source.kind === "shm" && source.path !== null;
  const size = named ? encodeName(source.path!) : 0;
  const status = symbols.mmap_ffi_resize(
    live.address,
    live.id,
    length,
    kind,
    named ? nameBuffer : null,
    size,
    source.fd ?? -1,
    growTo,
    out,
    out.length,
  );
  check(status, context);
  return { mapped: mapped(), moves: slot(abi.OUT_COUNT) === 1 };
}

/** Finishes a resize whose `moves` was true: carries the old mapping's bytes to the new one. */
export function move(from: Live, to: Live): void {
  check(symbols.mmap_ffi_move(from.address, from.id, to.address, to.id, out, out.length));
}

/**
 * Lets go of a mapping's file at once (its pages become zero pages; the range waits for its
 * holds). A mapping the runtime already gave back is fine: nothing is left to let go of.
 */
export function retire(live: Live): void {
  const status = symbols.mmap_ffi_retire(live.address, live.id, out, out.length);
  if (status !== abi.STATUS_NOT_LIVE) check(status);
}

/** Adds a hold on a mapping's range. */
export function hold(live: Live): void {
  check(symbols.mmap_ffi_hold(live.address, live.id, out, out.length));
}

/** Drops a hold (the range is unmapped with the last); a mapping already gone is fine. */
export function release(live: Live): void {
  const status = symbols.mmap_ffi_unmap(live.address, live.id, out, out.length);
  if (status !== abi.STATUS_NOT_LIVE) check(status);
}

/** How many mappings of the library still hold an address range. */
export function liveCount(): number {
  return symbols.mmap_ffi_live_count();
}
