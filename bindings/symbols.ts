/**
 * The C ABI of `libmmap_ffi`, declared once in runtime-neutral terms. Each loader converts
 * this table for its runtime's FFI (`bindings/convert.ts`). Each parameter carries the C
 * prototype beside it; a variant of a function (such as one that runs off the main thread) is
 * an entry of its own whose `name` is the exported symbol. A test checks these names against
 * the library's exported symbols.
 *
 * Statuses (`int32_t` results) are 0 for success, a positive errno, or a negative library
 * code (`STATUS_*` in `mmap_ffi_constants`); `mmap_ffi_describe` names them. Map calls write
 * address, length and id (and on failure the file size or the failed system call) to
 * `double out[OUT_SLOTS]`.
 *
 * @module
 */

/** The C types the table uses, by the names Deno's FFI also uses. */
export type NativeType = "void" | "i32" | "u32" | "u64" | "usize" | "buffer" | "pointer";

/** One foreign function: its parameters, result, and how it is called. */
export interface ForeignFunction {
  /** The exported symbol, when the table's key is a variant's name. */
  readonly name?: string;
  /** The C types of the parameters. */
  readonly parameters: readonly NativeType[];
  /** The C type of the result. */
  readonly result: NativeType;
  /** Run on another thread and return a `Promise` (where the runtime can; else at once). */
  readonly nonblocking?: boolean;
}

export const symbols = {
  /** `uint32_t mmap_ffi_constants(uint8_t *buf, size_t buf_len)` */
  mmap_ffi_constants: {
    parameters: [
      "buffer", // uint8_t *buf: receives "NAME=value\n" lines
      "usize", // size_t buf_len
    ],
    result: "u32", // uint32_t: the text's length (nothing written if larger than buf_len)
  },
  /** `uint32_t mmap_ffi_describe(int32_t status, int32_t syscall, uint8_t *buf, size_t buf_len)` */
  mmap_ffi_describe: {
    parameters: [
      "i32", // int32_t status
      "i32", // int32_t syscall: the number from out[OUT_SYSCALL], or 0
      "buffer", // uint8_t *buf: receives "code\tsyscall\tmessage"
      "usize", // size_t buf_len
    ],
    result: "u32", // uint32_t: the text's length (nothing written if larger than buf_len)
  },
  /** `int32_t mmap_ffi_map_fd(size_t length, int32_t prot, int32_t flags, int32_t fd, uint64_t offset, double *out, size_t out_len)` */
  mmap_ffi_map_fd: {
    parameters: [
      "usize", // size_t length: 0 maps to the end of the file
      "i32", // int32_t prot: PROT_* bits
      "i32", // int32_t flags: MAP_SHARED or MAP_PRIVATE, optionally | MAP_ANONYMOUS
      "i32", // int32_t fd: an open descriptor, or -1 with MAP_ANONYMOUS
      "u64", // uint64_t offset: any byte offset into the file
      "buffer", // double *out: OUT_SLOTS slots
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_map_file(int32_t fd, size_t length, int32_t prot, int32_t flags, uint64_t offset, uint64_t grow_to, double *out, size_t out_len)` */
  mmap_ffi_map_file: {
    parameters: [
      "i32", // int32_t fd: a regular file the caller opened (anything else: NOT_A_FILE)
      "usize", // size_t length: 0 maps to the end of the file
      "i32", // int32_t prot
      "i32", // int32_t flags
      "u64", // uint64_t offset
      "u64", // uint64_t grow_to: grow a shorter file to this size first (0: never)
      "buffer", // double *out
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_map_path(const uint8_t *path, size_t path_len, size_t length, int32_t prot, int32_t flags, uint64_t offset, uint32_t open_flags, uint64_t grow_to, double *out, size_t out_len)` */
  mmap_ffi_map_path: {
    parameters: [
      "buffer", // const uint8_t *path: UTF-8, no NUL
      "usize", // size_t path_len
      "usize", // size_t length: 0 maps to the end of the file
      "i32", // int32_t prot
      "i32", // int32_t flags
      "u64", // uint64_t offset
      "u32", // uint32_t open_flags: OPEN_WRITE | OPEN_CREATE | OPEN_EXCLUSIVE
      "u64", // uint64_t grow_to: grow a shorter file to this size (0: never)
      "buffer", // double *out
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_map_shm(const uint8_t *name, size_t name_len, size_t length, int32_t prot, int32_t flags, uint64_t offset, uint32_t open_flags, uint32_t mode, uint64_t grow_to, double *out, size_t out_len)` */
  mmap_ffi_map_shm: {
    parameters: [
      "buffer", // const uint8_t *name: "/name", UTF-8, no NUL
      "usize", // size_t name_len
      "usize", // size_t length: 0 maps the whole object
      "i32", // int32_t prot
      "i32", // int32_t flags
      "u64", // uint64_t offset
      "u32", // uint32_t open_flags: OPEN_WRITE | OPEN_CREATE | OPEN_EXCLUSIVE
      "u32", // uint32_t mode: permission bits if created
      "u64", // uint64_t grow_to: grow a smaller object to this size (0: never)
      "buffer", // double *out
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_shm_unlink(const uint8_t *name, size_t name_len, double *out, size_t out_len)` */
  mmap_ffi_shm_unlink: {
    parameters: [
      "buffer", // const uint8_t *name
      "usize", // size_t name_len
      "buffer", // double *out: receives the failed system call (may be NULL)
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_unmap(size_t address, uint64_t id, double *out, size_t out_len)`: drops a hold */
  mmap_ffi_unmap: {
    parameters: [
      "usize", // size_t address: out[OUT_ADDRESS] of the map call
      "u64", // uint64_t id: out[OUT_ID] of the map call
      "buffer", // double *out: receives the failed system call (may be NULL)
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_sync(size_t address, uint64_t id, size_t offset, size_t length, int32_t flags, double *out, size_t out_len)` */
  mmap_ffi_sync: {
    parameters: [
      "usize", // size_t address
      "u64", // uint64_t id
      "usize", // size_t offset: from the start of the mapping
      "usize", // size_t length
      "i32", // int32_t flags: MS_SYNC or MS_ASYNC, optionally | MS_INVALIDATE
      "buffer", // double *out: receives the failed system call (may be NULL)
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `mmap_ffi_sync` on another thread, returning a `Promise` (Deno; Bun runs it at once). */
  mmap_ffi_sync_nonblocking: {
    name: "mmap_ffi_sync",
    parameters: [
      "usize", // size_t address
      "u64", // uint64_t id
      "usize", // size_t offset
      "usize", // size_t length
      "i32", // int32_t flags
      "buffer", // double *out: a buffer no other call uses meanwhile (may be NULL)
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
    nonblocking: true,
  },
  /** `int32_t mmap_ffi_advise(size_t address, uint64_t id, size_t offset, size_t length, int32_t advice, double *out, size_t out_len)` */
  mmap_ffi_advise: {
    parameters: [
      "usize", // size_t address
      "u64", // uint64_t id
      "usize", // size_t offset
      "usize", // size_t length
      "i32", // int32_t advice: an MADV_* value
      "buffer", // double *out
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_lock(size_t address, uint64_t id, size_t offset, size_t length, int32_t lock, double *out, size_t out_len)` */
  mmap_ffi_lock: {
    parameters: [
      "usize", // size_t address
      "u64", // uint64_t id
      "usize", // size_t offset
      "usize", // size_t length
      "i32", // int32_t lock: 1 mlock, 0 munlock
      "buffer", // double *out
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_protect(size_t address, uint64_t id, int32_t prot, double *out, size_t out_len)` */
  mmap_ffi_protect: {
    parameters: [
      "usize", // size_t address
      "u64", // uint64_t id
      "i32", // int32_t prot: PROT_* bits
      "buffer", // double *out
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_residency(size_t address, uint64_t id, size_t offset, size_t length, uint8_t *pages, size_t pages_len, double *out, size_t out_len)` */
  mmap_ffi_residency: {
    parameters: [
      "usize", // size_t address
      "u64", // uint64_t id
      "usize", // size_t offset
      "usize", // size_t length
      "buffer", // uint8_t *pages: one byte a page, 1 if resident
      "usize", // size_t pages_len: length / PAGESIZE + 2 always suffices
      "buffer", // double *out: OUT_LENGTH pages, OUT_COUNT resident
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_resize(size_t address, uint64_t id, size_t new_length, uint32_t source, const uint8_t *name, size_t name_len, int32_t fd, uint64_t grow_to, double *out, size_t out_len)` */
  mmap_ffi_resize: {
    parameters: [
      "usize", // size_t address
      "u64", // uint64_t id
      "usize", // size_t new_length
      "u32", // uint32_t source: SOURCE_ANONYMOUS, SOURCE_FILE, SOURCE_DESCRIPTOR or SOURCE_SHM
      "buffer", // const uint8_t *name: the file path or shm name (NULL otherwise)
      "usize", // size_t name_len
      "i32", // int32_t fd: the file, for SOURCE_DESCRIPTOR (writable if it is to grow)
      "u64", // uint64_t grow_to: grow the source to this size first (0: never)
      "buffer", // double *out: the new address, length and id; OUT_COUNT 1: call mmap_ffi_move
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_move(size_t address, uint64_t id, size_t to, uint64_t to_id, double *out, size_t out_len)` */
  mmap_ffi_move: {
    parameters: [
      "usize", // size_t address: the mapping resized
      "u64", // uint64_t id
      "usize", // size_t to: the new mapping mmap_ffi_resize made
      "u64", // uint64_t to_id
      "buffer", // double *out
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_hold(size_t address, uint64_t id, double *out, size_t out_len)` */
  mmap_ffi_hold: {
    parameters: [
      "usize", // size_t address
      "u64", // uint64_t id
      "buffer", // double *out
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `int32_t mmap_ffi_retire(size_t address, uint64_t id, double *out, size_t out_len)` */
  mmap_ffi_retire: {
    parameters: [
      "usize", // size_t address
      "u64", // uint64_t id
      "buffer", // double *out
      "usize", // size_t out_len
    ],
    result: "i32", // int32_t status
  },
  /** `uint32_t mmap_ffi_live_count(void)` */
  mmap_ffi_live_count: {
    parameters: [],
    result: "u32", // uint32_t: mappings of the library that still hold an address range
  },
  /** `uint32_t mmap_ffi_retired_count(void)` */
  mmap_ffi_retired_count: {
    parameters: [],
    result: "u32", // uint32_t: of those, the retired: file let go, range kept for a hold
  },
  /** `void mmap_ffi_release(void *bytes, void *context)`: a GC deallocator (Bun); drops a hold. */
  mmap_ffi_release: {
    parameters: [
      "pointer", // void *bytes: the mapping's address
      "pointer", // void *context: the mapping's id
    ],
    result: "void",
  },
  /** `const void *mmap_ffi_release_callback(void)`: the address of `mmap_ffi_release`. */
  mmap_ffi_release_callback: {
    parameters: [],
    result: "pointer", // const void *
  },
} as const satisfies Record<string, ForeignFunction>;

/** The JavaScript value of a C type, as every runtime accepts it (64-bit integers as numbers). */
type JsValue<T extends NativeType> = T extends "void" ? void
  : T extends "buffer" ? ArrayBufferView | null
  : T extends "pointer" ? unknown
  : number;

/** The parameters of one function, as a tuple. */
type Arguments<P extends readonly NativeType[]> = { -readonly [K in keyof P]: JsValue<P[K]> };

/** The JavaScript signature of one function (a `Promise` of the result if nonblocking). */
type Signature<F extends ForeignFunction> = (
  ...args: Arguments<F["parameters"]>
) => F extends { nonblocking: true } ? Promise<JsValue<F["result"]>> : JsValue<F["result"]>;

/** The library's functions as every loader exposes them, by the table's keys. */
export type NativeSymbols = { [K in keyof typeof symbols]: Signature<(typeof symbols)[K]> };
