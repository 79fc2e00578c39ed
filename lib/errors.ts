/**
 * Turns a failed status from the native library into the error object. Every call site goes
 * through {@linkcode failure}.
 *
 * @module
 */
import { native } from "../bindings/load.ts";
import { abi } from "./constants.ts";

/**
 * An OS failure: `code` (such as `ENOENT`), `errno`, `syscall` and, where there is one, `path`.
 * The library's own refusals that are not argument errors carry an `ERR_MMAP_*` code.
 *
 * @example
 * ```ts
 * import { MmapError, open } from "./mod.ts";
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

/** What the failed call was doing, for the message. */
export interface FailureContext {
  /** The file path or shared-memory name. */
  path?: string;
  /** The requested offset. */
  offset?: number;
  /** The requested length (0: the rest of the file). */
  length?: number;
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

/** The error for a failed status (never 0) from the native library. */
export function failure(status: number, context: FailureContext = {}): Error {
  const out = context.out;
  const syscallNumber = out && status > 0 ? out[abi.OUT_SYSCALL] : 0;
  const [code, syscall, message] = describe(status, syscallNumber);
  const where = context.path === undefined ? "" : ` '${context.path}'`;
  if (status === abi.STATUS_MAPPING_LIMIT) {
    const limit = out ? out[abi.OUT_COUNT] : abi.MAPPING_LIMIT;
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
  const fileSize = out ? out[abi.OUT_FILE_SIZE] : 0;
  const offset = context.offset ?? 0;
  switch (code) {
    case "ERR_MMAP_PAST_END_OF_FILE":
      return coded(
        new RangeError(
          `mmap: ${context.length} bytes from offset ${offset} reach past the end of${where} ` +
            `(${fileSize} bytes); touching those pages would kill the process with SIGBUS. ` +
            `Map at most ${Math.max(0, fileSize - offset)} bytes (0 maps to the end), or map ` +
            "by file name with PROT_WRITE to grow the file.",
        ),
        code,
      );
    case "ERR_MMAP_EMPTY_FILE":
      return coded(
        new RangeError(
          `mmap: nothing to map: the file${where} has ${fileSize} bytes and the offset is ` +
            `${offset}. A length of 0 means "to the end of the file"; pass a length, or grow ` +
            "the file first.",
        ),
        code,
      );
    case "ERR_MMAP_SIZE_UNKNOWN":
      return coded(
        new RangeError(
          `mmap:${where || " the descriptor"} is not a regular file, so its size is unknown; ` +
            "pass the number of bytes to map instead of 0.",
        ),
        code,
      );
    case "ERR_MMAP_OUT_OF_RANGE":
      return coded(new RangeError(`mmap: ${message}`), code);
    case "ERR_MMAP_CANNOT_GROW":
      return coded(
        new RangeError(
          `mmap: ${message}: processes sharing it would not see the new pages. Create it at ` +
            "its final size, or use shm.open() for shared memory that can grow.",
        ),
        code,
      );
    default:
      return new MmapError(`mmap: ${message}`, code);
  }
}
