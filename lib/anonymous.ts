/**
 * `anonymous()`: zero-filled memory backed by no file.
 *
 * @module
 */
import {
  MAP_ANONYMOUS,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
} from "./constants.ts";
import * as call from "./native_call.ts";
import { createMapping, Mapping, type Origin } from "./mapping.ts";
import { bytes, flag, optionBag } from "./options.ts";
import { prepare } from "./prepare.ts";
import { checkLength } from "./validate.ts";

/** Options of {@linkcode anonymous}. */
export interface AnonymousOptions {
  /** Share the memory with child processes (`MAP_SHARED`); default false (private). */
  shared?: boolean;
  /** Pre-fault the pages now. */
  populate?: boolean;
  /** Lock the pages in memory from the start. */
  lock?: boolean;
}

/**
 * Maps anonymous memory: zero-filled, backed by no file; `shared: true` shares it with child
 * processes. Size 0 gives an empty mapping.
 *
 * @example
 * ```ts
 * import { anonymous } from "@mmap/mmap";
 *
 * using scratch = anonymous(1 << 20);
 * scratch.fill(7);
 * ```
 */
export function anonymous(size: number, options?: AnonymousOptions): Mapping {
  const length = bytes({ size }, "size") ?? 0;
  const bag = optionBag(options, ["shared", "populate", "lock"], "anonymous()");
  const shared = flag(bag, "shared", false);
  const populate = flag(bag, "populate", false);
  const lock = flag(bag, "lock", false);
  checkLength(length);
  const origin: Origin = {
    kind: "anonymous",
    path: null,
    offset: 0,
    flags: (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS |
      (populate ? MAP_POPULATE ?? 0 : 0),
    protection: PROT_READ | PROT_WRITE,
  };
  const mapped = length === 0 ? call.EMPTY : call.map({ ...origin, length });
  return prepare(createMapping(Mapping, mapped, origin, false), populate, lock);
}
