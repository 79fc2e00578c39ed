/**
 * Option bags of the modern API: unknown names are refused, and each value is checked with a
 * clear `TypeError` or `RangeError`.
 *
 * @module
 */
import { argumentError, rangeError, typeError } from "./errors.ts";
import { byteCount, show } from "./validate.ts";

/** An option bag as the caller passed it, before checking. */
export type Bag = Record<string, unknown>;

/**
 * Checks that `options` is undefined or a plain object whose keys are all in `known`, and
 * returns it as a bag.
 */
export function optionBag(options: unknown, known: readonly string[], where: string): Bag {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw typeError(`mmap: ${where} options must be an object, got ${show(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw argumentError(
        "type",
        "ERR_MMAP_UNKNOWN_OPTION",
        `mmap: unknown option ${JSON.stringify(key)} for ${where}; known options: ` +
          known.join(", "),
      );
    }
  }
  return options as Bag;
}

/** A boolean option, `fallback` when absent. */
export function flag(bag: Bag, key: string, fallback: boolean): boolean {
  const value = bag[key];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw typeError(`mmap: option ${key} must be true or false, got ${show(value)}`);
  }
  return value;
}

/** A byte-count option (a non-negative safe integer), `undefined` when absent. */
export function bytes(bag: Bag, key: string): number | undefined {
  const value = bag[key];
  return value === undefined ? undefined : byteCount(value, `option ${key}`);
}

/** A string option that must be one of `choices`, `fallback` when absent. */
export function choice<T extends string>(
  bag: Bag,
  key: string,
  choices: readonly T[],
  fallback: T,
): T {
  const value = bag[key];
  if (value === undefined) return fallback;
  if (typeof value !== "string") {
    throw typeError(`mmap: option ${key} must be a string, got ${show(value)}`);
  }
  if (!(choices as readonly string[]).includes(value)) {
    throw rangeError(
      `mmap: option ${key} must be one of ${choices.map((c) => `"${c}"`).join(", ")}, got ` +
        JSON.stringify(value),
    );
  }
  return value as T;
}

/** A byte range within a buffer of `length` bytes: `{ offset, length }`, both optional. */
export interface Range {
  /** First byte, from the start of the mapping (default 0). */
  offset?: number;
  /** Number of bytes (default: to the end of the mapping). */
  length?: number;
}

/** Checks a range option bag against a buffer of `size` bytes; returns [offset, length]. */
export function range(
  bag: Bag,
  size: number,
  where: string,
): [number, number] {
  const offset = bytes(bag, "offset") ?? 0;
  const length = bytes(bag, "length") ?? Math.max(0, size - offset);
  if (offset + length > size) {
    throw rangeError(
      `mmap: ${where} range [${offset}, ${offset + length}) lies outside the mapping [0, ${size})`,
    );
  }
  return [offset, length];
}
