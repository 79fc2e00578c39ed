/**
 * Catching the transfer lists of `structuredClone` and `postMessage`, for Deno.
 *
 * Deno gives mapped memory an ArrayBuffer with no native deallocator, so the library unmaps it
 * when the garbage collector frees the buffer. A transfer list moves the memory to a new
 * ArrayBuffer (in a Worker, or a clone) and leaves the original detached; collecting the original
 * must then not unmap memory the new owner still uses. `transfer()` is caught on the mapped
 * buffer's prototype; this module catches the rest: before the runtime moves anything, each
 * transferred ArrayBuffer is handed to a callback, which lets go of it.
 *
 * @module
 */

/** Told about each ArrayBuffer about to be transferred; must not throw. */
export type HandOver = (buffer: ArrayBuffer) => void;

/** Each entry: an object, a method name, and which argument holds the transfer list. */
type Site = readonly [target: object | undefined, name: string, argument: number];

/**
 * Wraps `structuredClone`, `Worker.prototype.postMessage`, `MessagePort.prototype.postMessage`
 * and a worker's own `postMessage`, where present, so `handOver` sees every ArrayBuffer they
 * transfer. Behaviour is otherwise the same: the wrapper passes every argument on, returns the
 * original's result, and keeps its name, length and property attributes.
 */
export function watchTransferLists(handOver: HandOver): void {
  const scope = globalThis as {
    Worker?: { prototype: object };
    MessagePort?: { prototype: object };
  };
  const sites: Site[] = [
    [globalThis, "structuredClone", 1],
    [globalThis, "postMessage", 1],
    [scope.Worker?.prototype, "postMessage", 1],
    [scope.MessagePort?.prototype, "postMessage", 1],
  ];
  for (const [target, name, argument] of sites) {
    if (target !== undefined) wrap(target, name, argument, handOver);
  }
}

function wrap(target: object, name: string, argument: number, handOver: HandOver): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, name);
  const original: unknown = descriptor?.value;
  if (descriptor === undefined || typeof original !== "function") return;
  const wrapped = {
    [name](this: unknown, ...args: unknown[]): unknown {
      if (args.length > argument) args[argument] = inspect(args[argument], handOver);
      return Reflect.apply(original, this, args);
    },
  }[name];
  Object.defineProperty(wrapped, "length", { value: original.length });
  Object.defineProperty(target, name, { ...descriptor, value: wrapped });
}

/**
 * Hands over each ArrayBuffer in a transfer list (a sequence, or an options object with
 * `transfer`) and returns what to pass on: the same value, or, where the list is an iterable that
 * is not an array (a generator can be read only once), an equivalent with the list as an array.
 */
function inspect(value: unknown, handOver: HandOver): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Symbol.iterator in value) {
    const list = Array.isArray(value) ? value : Array.from(value as Iterable<unknown>);
    handOverAll(list, handOver);
    return list;
  }
  const transfer = (value as { transfer?: unknown }).transfer;
  if (transfer === null || typeof transfer !== "object" || !(Symbol.iterator in transfer)) {
    return value;
  }
  if (Array.isArray(transfer)) {
    handOverAll(transfer, handOver);
    return value;
  }
  const list = Array.from(transfer as Iterable<unknown>);
  handOverAll(list, handOver);
  // The other options are read through the prototype, as a dictionary's members are.
  return Object.create(value, { transfer: { value: list, enumerable: true } });
}

function handOverAll(list: readonly unknown[], handOver: HandOver): void {
  for (const item of list) {
    if (item instanceof ArrayBuffer) handOver(item);
  }
}
