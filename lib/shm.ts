/**
 * `shm`: POSIX shared memory by name.
 *
 * @module
 */
import { invalidValue, rangeError, typeError } from "./errors.ts";
import { abi, MAP_SHARED, PROT_READ, PROT_WRITE } from "./constants.ts";
import * as call from "./native_call.ts";
import { createMapping, type Origin, SharedMemoryMapping } from "./mapping.ts";
import { bytes, flag, optionBag } from "./options.ts";
import { checkLength, shmName, show } from "./validate.ts";

/** Options of {@linkcode shm.open}. */
export interface ShmOptions {
  /** Create the object if it does not exist (default true). */
  create?: boolean;
  /** With `create`: fail with `EEXIST` if it already exists (default false). */
  exclusive?: boolean;
  /** Permission bits when created, less the umask (default `0o600`: only this user). */
  mode?: number;
}

function openShm(name: string, size: number, options?: ShmOptions): SharedMemoryMapping {
  const object = shmName(name);
  const length = bytes({ size }, "size") ?? 0;
  const bag = optionBag(options, ["create", "exclusive", "mode"], "shm.open()");
  const create = flag(bag, "create", true);
  const exclusive = flag(bag, "exclusive", false);
  const permissions = bag.mode === undefined ? 0o600 : bag.mode;
  if (typeof permissions !== "number") {
    throw typeError(
      `mmap: option mode must be a number such as 0o600, got ${show(permissions)}`,
    );
  }
  if (!Number.isInteger(permissions) || permissions < 0 || permissions > 0o777) {
    throw rangeError(
      `mmap: option mode must be permission bits from 0 to 0o777, got ${permissions}`,
    );
  }
  if (exclusive && !create) throw invalidValue("mmap: option exclusive needs create");
  checkLength(length);
  const origin: Origin = {
    kind: "shm",
    path: object,
    offset: 0,
    flags: MAP_SHARED,
    protection: PROT_READ | PROT_WRITE,
  };
  const mapped = call.map({
    ...origin,
    length,
    openFlags: abi.OPEN_WRITE | (create ? abi.OPEN_CREATE : 0) |
      (exclusive ? abi.OPEN_EXCLUSIVE : 0),
    growTo: length,
    permissions,
    emptyIsFine: true,
  });
  return createMapping(SharedMemoryMapping, mapped, origin, false);
}

/**
 * POSIX shared memory by name: any process (Deno, Bun, C) that opens the same name sees the
 * same bytes, and `Atomics` on an `Int32Array` over them work across processes.
 *
 * @example
 * ```ts
 * import { shm } from "@mmap/mmap";
 *
 * using region = shm.open("/my-app-counter", 4096);
 * Atomics.add(new Int32Array(region.buffer, 0, 1), 0, 1);
 * shm.unlink("/my-app-counter");
 * ```
 */
export const shm: {
  /**
   * Opens (by default creating) the shared-memory object `name` (`/name`; the slash is added
   * if missing), grows it to `size` bytes if smaller (0: map it as it is), and maps it shared
   * and read/write. Options: `create` (default true), `exclusive`, `mode` (default 0o600).
   */
  open(name: string, size: number, options?: ShmOptions): SharedMemoryMapping;
  /** Removes the name of a shared-memory object and returns `true`; mappings stay valid. */
  unlink(name: string): boolean;
} = Object.freeze({
  open: openShm,
  unlink(name: string): boolean {
    call.unlinkShm(shmName(name));
    return true;
  },
});
