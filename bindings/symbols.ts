/**
 * The C ABI of `libmmap_ffi`, declared once. The Deno loader passes this table to
 * `Deno.dlopen` as it is; the Bun loader converts it for `bun:ffi`. Each parameter carries the
 * C prototype beside it. A test checks these names against the library's exported symbols.
 *
 * Statuses (`int32_t` results) are 0 for success, a positive errno, or a negative library
 * code; `mmap_ffi_describe` names them. Map calls write address, length and id (and on failure
 * the file size or the failed system call) to `double out[OUT_SLOTS]`.
 *
 * @module
 */
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
  /** `int32_t mmap_ffi_unmap(size_t address, uint64_t id, double *out, size_t out_len)` */
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
  /** `int32_t mmap_ffi_flush(size_t address, uint64_t id, size_t offset, size_t length, int32_t flags, double *out, size_t out_len)`: `mmap_ffi_sync` off the main thread. */
  mmap_ffi_flush: {
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
    nonblocking: true, // Deno runs it on another thread; Bun ignores this and blocks
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
  /** `int32_t mmap_ffi_resize(size_t address, uint64_t id, size_t new_length, uint32_t source, const uint8_t *name, size_t name_len, uint64_t grow_to, double *out, size_t out_len)` */
  mmap_ffi_resize: {
    parameters: [
      "usize", // size_t address
      "u64", // uint64_t id
      "usize", // size_t new_length
      "u32", // uint32_t source: SOURCE_ANONYMOUS, SOURCE_FILE or SOURCE_SHM
      "buffer", // const uint8_t *name: the file path or shm name (NULL for anonymous)
      "usize", // size_t name_len
      "u64", // uint64_t grow_to: grow the source to this size first (0: never)
      "buffer", // double *out: the new address, length and id
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
    result: "u32", // uint32_t: live mappings made by the library
  },
  /** `void mmap_ffi_release(void *bytes, void *context)`: a GC deallocator (Bun). */
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
} as const satisfies Deno.ForeignLibraryInterface;

/** A parameter as both runtimes accept it: 64-bit integers also as plain numbers. */
type Argument<T> = T extends Deno.NativeBigIntType ? number | bigint
  : T extends Deno.NativeType ? Deno.ToNativeType<T>
  : never;

/** The parameters of one symbol, as a tuple. */
type Arguments<P extends readonly Deno.NativeType[]> = {
  -readonly [K in keyof P]: Argument<P[K]>;
};

/** The JavaScript signature of one symbol. */
type Signature<F extends Deno.ForeignFunction> = (
  ...args: Arguments<F["parameters"]>
) => Deno.StaticForeignSymbolReturnType<F>;

/**
 * The library's functions as both loaders expose them. (Deno's own typing wants `bigint` for
 * 64-bit parameters; both runtimes accept numbers there, which saves a BigInt per call.)
 */
export type NativeSymbols = { [K in keyof typeof symbols]: Signature<(typeof symbols)[K]> };
