/**
 * Every error the library throws, made here: argument errors ({@linkcode argumentError}), OS
 * failures of the runtime's own file API ({@linkcode systemError}), and failed statuses from the
 * native library ({@linkcode failure}, which every native call site goes through). Each carries
 * a stable `code`; README lists them.
 *
 * @module
 */
import { constants as osConstants } from "node:os";
import { native } from "../bindings/load.ts";
import { abi } from "./constants.ts";

/**
 * An OS failure: `code` (such as `ENOENT`), `errno`, `syscall` and, where there is one, `path`.
 * The library's own refusals that are not argument errors carry an `ERR_MMAP_*` code.
 *
 * @example
 * ```ts
 * import { MmapError, open } from "@mmap/mmap";
 *
 * try {
 *   open("/no/such/file");
 * } catch (error) {
 *   if (error instanceof MmapError) console.log(error.code, error.syscall); // ENOENT open
 * }
 * ```
 */
export class MmapError extends Error {
  /** The symbolic error code, such as `ENOENT`, or `ERR_MMAP_*` for the library's own. */
  code: string;
  /** The OS error number (positive, as in C), when an OS call failed. */
  errno?: number;
  /** The system call that failed, such as `open` or `mmap`. */
  syscall?: string;
  /** The file or shared-memory name involved, if any. */
  path?: string;

  /** Creates an error with a code; see the properties for the rest. */
  constructor(message: string, code: string) {
    super(message);
    this.name = "MmapError";
    this.code = code;
  }
}

/** The codes of argument errors, thrown before any system call. */
export type ArgumentCode =
  /** An argument or option of the wrong type, or a required one missing (`TypeError`). */
  | "ERR_MMAP_INVALID_TYPE"
  /** A value of the right type that cannot be used, or options that do not go together. */
  | "ERR_MMAP_INVALID_VALUE"
  /** An option name the call does not know (`TypeError`). */
  | "ERR_MMAP_UNKNOWN_OPTION"
  /** More bytes than the runtime can hold in one ArrayBuffer (`RangeError`). */
  | "ERR_MMAP_TOO_LARGE"
  /** `new Mapping()`: mappings are made only by the library (`TypeError`). */
  | "ERR_MMAP_ILLEGAL_CONSTRUCTOR";

/**
 * An argument error with its code: a `TypeError` for a wrong type or a name that does not fit,
 * a `RangeError` for a value out of bounds (`kind` says which).
 */
export function argumentError(
  kind: "type" | "range",
  code: ArgumentCode,
  message: string,
): (TypeError | RangeError) & { code: ArgumentCode } {
  const error = kind === "type" ? new TypeError(message) : new RangeError(message);
  return Object.assign(error, { code });
}

/** A wrong type (`TypeError`, `ERR_MMAP_INVALID_TYPE`). */
export function typeError(message: string): TypeError & { code: ArgumentCode } {
  return argumentError("type", "ERR_MMAP_INVALID_TYPE", message) as TypeError & {
    code: ArgumentCode;
  };
}

/**
 * A value of the right type that cannot be used, or options that do not go together, where a
 * `TypeError` is what callers expect (`ERR_MMAP_INVALID_VALUE`).
 */
export function invalidValue(message: string): TypeError & { code: ArgumentCode } {
  return argumentError("type", "ERR_MMAP_INVALID_VALUE", message) as TypeError & {
    code: ArgumentCode;
  };
}

/**
 * A value out of bounds that `mmap(2)` itself refuses with `EINVAL` (`RangeError`,
 * `ERR_MMAP_INVALID_VALUE`, and `errno` EINVAL, as the node package's error had it: it passed
 * the value on to the system call).
 */
export function einval(message: string): RangeError & { code: ArgumentCode; errno: number } {
  return Object.assign(rangeError(message), { errno: osConstants.errno.EINVAL });
}

/** A value out of bounds (`RangeError`, `ERR_MMAP_INVALID_VALUE`). */
export function rangeError(message: string): RangeError & { code: ArgumentCode } {
  return argumentError("range", "ERR_MMAP_INVALID_VALUE", message) as RangeError & {
    code: ArgumentCode;
  };
}

/**
 * The error for an OS failure the runtime's own file API reported (`node:fs`): an
 * {@linkcode MmapError} with its code, positive errno, system call and path. Anything else (the
 * runtime's permission error, such as Deno's `NotCapable` or Node's `ERR_ACCESS_DENIED`) is
 * returned as it is: it is the runtime's answer, as its own file operations give it.
 */
export function systemError(error: unknown, path: string): unknown {
  const { code, errno, syscall, message } = (error ?? {}) as {
    code?: unknown;
    errno?: unknown;
    syscall?: unknown;
    message?: unknown;
  };
  if (typeof code !== "string" || !/^E[A-Z0-9]+$/.test(code)) return error;
  const number = typeof errno === "number"
    ? Math.abs(errno)
    : (osConstants.errno as Record<string, number>)[code];
  const mapped = new MmapError(
    typeof message === "string" ? message : `${code}: ${syscall ?? "open"} '${path}'`,
    code,
  );
  if (number !== undefined) mapped.errno = number;
  mapped.syscall = typeof syscall === "string" ? syscall : "open";
  mapped.path = path;
  return mapped;
}

/** What the failed call was doing, for the message. */
export interface FailureContext {
  /** The file path or shared-memory name. */
  path?: string;
  /** The caller's descriptor, where the mapping was made from one. */
  fd?: number;
  /** The requested offset. */
  offset?: number;
  /** The requested length (0: the rest of the file). */
  length?: number;
  /** The call was a `resize()` of a mapping at `offset`. */
  resize?: boolean;
  /** The out slots of a map call, which hold the file size or the failed system call. */
  out?: Float64Array;
  /** Advice appended to the message of an OS failure. */
  hint?: string;
}

const describeBuffer = new Uint8Array(512);
const decoder = new TextDecoder();

function describe(status: number, syscall: number): [string, string, string] {
  const length = native.symbols.mmap_ffi_describe(
    status,
    syscall,
    describeBuffer,
    describeBuffer.length,
  );
  const text = decoder.decode(describeBuffer.subarray(0, Math.min(length, 512)));
  const [code = "ERR_MMAP_UNKNOWN", call = "", message = text] = text.split("\t");
  return [code, call, message];
}

function coded<E extends Error>(error: E, code: string): E & { code: string } {
  return Object.assign(error, { code });
}

/** How the message names the file: its path, the caller's descriptor, or "the file". */
function fileName(context: FailureContext): string {
  if (context.path !== undefined) return `'${context.path}'`;
  if (context.fd !== undefined) return `the file behind descriptor ${context.fd}`;
  return "the file";
}

/** The message of a mapping that would reach past the end of its file. */
function pastEnd(context: FailureContext, fileSize: number): string {
  const file = fileName(context);
  const offset = context.offset ?? 0;
  const length = context.length ?? 0;
  const grow = context.path === undefined
    ? "grow the file first"
    : 'map it with mode "rw" (or PROT_WRITE by name) to grow the file';
  if (context.resize) {
    return `mmap: cannot resize to ${length} bytes: the mapping starts at byte ${offset} of ` +
      `${file} (${fileSize} bytes), so it can be at most ${Math.max(0, fileSize - offset)} ` +
      `bytes long, and pages past the end would kill the process with SIGBUS. Resize to at ` +
      `most that, or ${grow}.`;
  }
  if (offset > fileSize) {
    return `mmap: offset ${offset} lies past the end of ${file} (${fileSize} bytes): there is ` +
      `nothing there to map. Use an offset of at most ${fileSize}, or ${grow}.`;
  }
  return `mmap: ${length} bytes from offset ${offset} reach past the end of ${file} ` +
    `(${fileSize} bytes); touching those pages would kill the process with SIGBUS. Map at most ` +
    `${fileSize - offset} bytes from there (or a length of 0, for "to the end"), or ${grow}.`;
}

/** The error for a failed status (never 0) from the native library. */
export function failure(status: number, context: FailureContext = {}): Error {
  const out = context.out;
  const syscallNumber = (status > 0 ? out?.[abi.OUT_SYSCALL] : 0) ?? 0;
  const [code, syscall, message] = describe(status, syscallNumber);
  const where = context.path === undefined ? "" : ` '${context.path}'`;
  if (status === abi.STATUS_MAPPING_LIMIT) {
    const limit = out?.[abi.OUT_COUNT] ?? abi.MAPPING_LIMIT;
    const error = new MmapError(
      `${code}: ${message}: this process already holds ${limit} mappings, the most this ` +
        "library allows (three quarters of the kernel's vm.max_map_count, so the runtime " +
        "itself never runs out). unmap() the mappings you no longer need, or declare them with " +
        "`using` so each is unmapped at the end of its block.",
      code,
    );
    error.errno = abi.ERRNO_ENOMEM;
    error.syscall = "mmap";
    if (context.path !== undefined) error.path = context.path;
    return error;
  }
  if (status > 0) {
    const hint = context.hint === undefined ? "" : `; ${context.hint}`;
    const error = new MmapError(`${code}: ${message}, ${syscall}${where}${hint}`, code);
    error.errno = status;
    error.syscall = syscall;
    if (context.path !== undefined) error.path = context.path;
    return error;
  }
  const fileSize = out?.[abi.OUT_FILE_SIZE] ?? 0;
  const offset = context.offset ?? 0;
  switch (status) {
    case abi.STATUS_PAST_END_OF_FILE:
      return coded(new RangeError(pastEnd(context, fileSize)), code);
    case abi.STATUS_EMPTY_FILE:
      return coded(
        new RangeError(
          `mmap: nothing to map: ${fileName(context)} has ${fileSize} bytes and the offset is ` +
            `${offset}, its end. A length of 0 means "to the end of the file"; pass a length ` +
            "and map it writable by name to grow the file, or grow it first.",
        ),
        code,
      );
    case abi.STATUS_SIZE_UNKNOWN:
      return coded(
        new RangeError(
          `mmap: ${context.path ?? `descriptor ${context.fd}`} is not a regular file, so its ` +
            "size is unknown; pass the number of bytes to map instead of 0.",
        ),
        code,
      );
    case abi.STATUS_OUT_OF_RANGE:
      return coded(new RangeError(`mmap: ${message}`), code);
    case abi.STATUS_CANNOT_GROW:
      return coded(
        new RangeError(
          `mmap: ${message}: processes sharing it would not see the new pages. Create it at ` +
            "its final size, or use shm.open() for shared memory that can grow.",
        ),
        code,
      );
    case abi.STATUS_NOT_A_FILE: {
      const error = new MmapError(
        `mmap: ${context.path ?? "the source"} is not a regular file (a FIFO, a device or a ` +
          "directory): only regular files can be mapped by name. Map a device through its " +
          "descriptor, with a length.",
        code,
      );
      if (context.path !== undefined) error.path = context.path;
      return error;
    }
    default:
      return new MmapError(`mmap: ${message}`, code);
  }
}
