/**
 * Argument checks, made before any system call: a `TypeError` for the wrong type, a
 * `RangeError` for a value of the right type that is out of bounds.
 *
 * @module
 */
import { argumentError, einval, invalidValue, rangeError, typeError } from "./errors.ts";
import { native } from "../bindings/load.ts";
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_SHARED,
  MS_ASYNC,
  MS_INVALIDATE,
  MS_SYNC,
  PAGESIZE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from "./constants.ts";

/** A short description of a value for error messages. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || typeof value !== "object") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

/** A byte count or offset: a non-negative safe integer. */
export function byteCount(value: unknown, name: string): number {
  if (typeof value !== "number") {
    throw typeError(`mmap: ${name} must be a number, got ${show(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw rangeError(
      `mmap: ${name} must be a whole number from 0 to Number.MAX_SAFE_INTEGER, got ${value}`,
    );
  }
  return value;
}

/** An offset for the compatible API: a byte count that is a multiple of `PAGESIZE`. */
export function pageOffset(value: unknown, name = "offset"): number {
  const offset = byteCount(value, name);
  if (offset % PAGESIZE !== 0) {
    throw einval(
      `mmap: ${name} must be a multiple of PAGESIZE (${PAGESIZE}), got ${offset}; round it ` +
        `down to ${offset - (offset % PAGESIZE)} and skip the difference in the buffer`,
    );
  }
  return offset;
}

function integer(value: unknown, name: string): number {
  if (typeof value !== "number") {
    throw typeError(`mmap: ${name} must be a number, got ${show(value)}`);
  }
  if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw rangeError(`mmap: ${name} must be a 32-bit integer, got ${value}`);
  }
  return value;
}

/**
 * Protection bits: `PROT_NONE` or an OR of `PROT_READ`, `PROT_WRITE`, `PROT_EXEC`. `PROT_EXEC`
 * needs `PROT_READ`: on CPUs with protection keys, execute-only pages kill the process on a read.
 */
export function protection(value: unknown): number {
  const prot = integer(value, "protection");
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) !== 0) {
    throw rangeError(
      `mmap: protection must be PROT_NONE or an OR of PROT_READ, PROT_WRITE and PROT_EXEC, ` +
        `got ${prot}`,
    );
  }
  if ((prot & PROT_EXEC) !== 0 && (prot & PROT_READ) === 0) {
    throw rangeError(
      "mmap: PROT_EXEC without PROT_READ makes execute-only memory, which kills the process " +
        "on a read on CPUs with protection keys; add PROT_READ (PROT_READ | PROT_EXEC)",
    );
  }
  return prot;
}

/** Mapping flags: `MAP_SHARED` or `MAP_PRIVATE`, optionally OR `MAP_ANONYMOUS`. */
export function mapFlags(value: unknown): number {
  const flags = integer(value, "flags");
  const shared = (flags & MAP_SHARED) === MAP_SHARED;
  const isPrivate = (flags & MAP_PRIVATE) === MAP_PRIVATE;
  if ((flags & ~(MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS)) !== 0 || shared === isPrivate) {
    throw einval(
      `mmap: flags must be MAP_SHARED or MAP_PRIVATE (one of them), optionally OR ` +
        `MAP_ANONYMOUS; got ${flags}`,
    );
  }
  return flags;
}

/** `msync` flags: `MS_SYNC` or `MS_ASYNC` (not both), optionally OR `MS_INVALIDATE`. */
export function syncFlags(value: unknown): number {
  const flags = integer(value, "flags");
  const both = MS_SYNC | MS_ASYNC;
  if ((flags & ~(both | MS_INVALIDATE)) !== 0 || (flags & both) === both) {
    throw einval(
      `mmap: sync flags must be MS_SYNC or MS_ASYNC, optionally OR MS_INVALIDATE; got ${flags}`,
    );
  }
  return flags;
}

/** A file descriptor: an integer from -1 (anonymous memory) up. */
export function fileDescriptor(value: number): number {
  if (!Number.isInteger(value)) {
    throw invalidValue(`mmap: fd must be an integer file descriptor, got ${value}`);
  }
  if (value < -1 || value >= 2 ** 31) {
    throw rangeError(
      `mmap: fd must be an open file descriptor (or -1 with MAP_ANONYMOUS), got ${value}`,
    );
  }
  return value;
}

/** A file name: a non-empty string without NUL bytes. */
export function fileName(value: string, name = "file name"): string {
  if (value.length === 0) throw invalidValue(`mmap: the ${name} is empty`);
  if (value.includes("\0")) {
    throw invalidValue(`mmap: the ${name} ${show(value)} contains a NUL byte`);
  }
  return value;
}

/**
 * A POSIX shared-memory name: one leading `/` (added if missing) and no other. Returns the
 * name with its leading slash.
 */
export function shmName(value: unknown): string {
  if (typeof value !== "string") {
    throw typeError(`mmap: a shared-memory name must be a string, got ${show(value)}`);
  }
  const name = fileName(value.startsWith("/") ? value : `/${value}`, "shared-memory name");
  if (name.length === 1) throw invalidValue("mmap: the shared-memory name is empty");
  if (name.indexOf("/", 1) !== -1) {
    throw invalidValue(
      `mmap: the shared-memory name ${show(value)} has a "/" after the first character; ` +
        'use a single name such as "/my-app-counter"',
    );
  }
  return name;
}

/** Refuses a length the runtime cannot hold in one ArrayBuffer (`ERR_MMAP_TOO_LARGE`). */
export function checkLength(length: number): void {
  if (length > native.maxBufferLength) {
    throw argumentError(
      "range",
      "ERR_MMAP_TOO_LARGE",
      `mmap: ${length} bytes is more than ${native.runtimeName} can hold in one ArrayBuffer ` +
        `(${native.maxBufferLength} bytes); map a window at a time (see windows()), or a ` +
        "smaller length at an offset",
    );
  }
}
