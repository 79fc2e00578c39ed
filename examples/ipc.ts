// A single-producer single-consumer ring buffer in POSIX shared memory between two processes of
// any two runtimes: one sends messages, the other receives them, and two Atomics indices are all
// they share to agree.
// Run: deno run --allow-ffi --allow-read --allow-env --allow-run examples/ipc.ts [COUNT] [OPTIONS]
//  or: bun run examples/ipc.ts [COUNT] [OPTIONS]
//  or: node --disable-warning=ExperimentalWarning examples/ipc.ts [COUNT] [OPTIONS]
// It makes the shared-memory object, then starts `ipc.ts produce NAME COUNT` under the producer
// runtime and `ipc.ts consume NAME COUNT` under the consumer, and checks that COUNT messages
// (100,000) arrived once each and in order. OPTIONS: `--producer deno|bun|node` (default: the
// runtime running it) and `--consumer deno|bun|node` (default: the runtime after the producer in
// deno, bun, node, wrapping round). Each runtime is started as tests/support/runtimes.ts says;
// DENO_BIN, BUN_BIN and NODE_BIN say where they are.
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { shm } from "../mod.ts";
import {
  binary,
  current,
  type Runtime,
  RUNTIME_NAMES,
  runtimeNamed,
  runtimes,
} from "../tests/support/runtimes.ts";

const HEAD = 0; // Int32 index: bytes ever written (mod 2^32); only the producer stores it
const TAIL = 16; // Int32 index, on its own cache line: bytes ever read; only the consumer
const DATA = 128; // where the ring's bytes start
/** Bytes of message data the ring holds (a power of two). */
export const CAPACITY = 1 << 16;
/** Bytes of the shared-memory object: the indices, then the ring. */
export const RING_BYTES = DATA + CAPACITY;

/** Sleeps a moment after spinning a while, so a waiting side does not hog a core. */
function backOff(spins: number): number {
  if (spins < 200) return spins + 1;
  Atomics.wait(pause, 0, 0, 0.05);
  // A side whose parent is gone would wait for the other side forever: it gives up instead.
  if (parent !== null && process.ppid !== parent) throw new Error("the parent process is gone");
  return spins;
}
const pause = new Int32Array(new SharedArrayBuffer(4));
/** The parent's process id, in a side the parent started; null in any other process. */
let parent: number | null = null;

/**
 * One end of a ring of length-prefixed messages in `bytes` (RING_BYTES long, zeroed at first).
 * The producer calls only `send`, the consumer only `receive`; each index has one writer, so
 * `Atomics.load`/`Atomics.store` are all the synchronisation needed.
 */
export class Ring {
  readonly #indices: Int32Array;
  readonly #data: Uint8Array;
  readonly #length = new Uint8Array(4);

  /** Uses `bytes` (at least RING_BYTES long) as the ring. */
  constructor(bytes: Uint8Array) {
    this.#indices = new Int32Array(bytes.buffer, bytes.byteOffset, DATA / 4);
    this.#data = bytes.subarray(DATA, DATA + CAPACITY);
  }

  /** Sends one message, waiting while the ring is too full for it. */
  send(message: Uint8Array): void {
    const size = 4 + message.length;
    if (size > CAPACITY) throw new RangeError(`a message may have at most ${CAPACITY - 4} bytes`);
    const head = Atomics.load(this.#indices, HEAD) >>> 0;
    for (let spins = 0; CAPACITY - ((head - Atomics.load(this.#indices, TAIL)) >>> 0) < size;) {
      spins = backOff(spins);
    }
    new DataView(this.#length.buffer).setUint32(0, message.length, true);
    this.#copyIn(head, this.#length);
    this.#copyIn(head + 4, message);
    // The store publishes the bytes above: the consumer reads them only after it sees it.
    Atomics.store(this.#indices, HEAD, (head + size) | 0);
  }

  /** Receives the next message, waiting while the ring is empty. */
  receive(): Uint8Array {
    const tail = Atomics.load(this.#indices, TAIL) >>> 0;
    for (let spins = 0; ((Atomics.load(this.#indices, HEAD) - tail) >>> 0) === 0;) {
      spins = backOff(spins);
    }
    this.#copyOut(tail, this.#length);
    const message = new Uint8Array(new DataView(this.#length.buffer).getUint32(0, true));
    this.#copyOut(tail + 4, message);
    // The store hands the space back: the producer reuses it only after it sees it.
    Atomics.store(this.#indices, TAIL, (tail + 4 + message.length) | 0);
    return message;
  }

  #copyIn(position: number, bytes: Uint8Array): void {
    const at = position % CAPACITY;
    const first = Math.min(bytes.length, CAPACITY - at);
    this.#data.set(bytes.subarray(0, first), at);
    this.#data.set(bytes.subarray(first), 0);
  }

  #copyOut(position: number, into: Uint8Array): void {
    const at = position % CAPACITY;
    const first = Math.min(into.length, CAPACITY - at);
    into.set(this.#data.subarray(at, at + first));
    into.set(this.#data.subarray(0, into.length - first), first);
  }
}

/** The text of message number `index`: varied lengths, so messages straddle the ring's end. */
export function messageText(index: number): string {
  return `message ${index} ` + "~".repeat(index % 61);
}

/** Sends `count` messages. */
function produce(ring: Ring, count: number): void {
  const encoder = new TextEncoder();
  for (let index = 0; index < count; index++) ring.send(encoder.encode(messageText(index)));
}

/** Receives `count` messages and checks each is the next one expected. */
function consume(ring: Ring, count: number): { received: number; last: string } {
  const decoder = new TextDecoder();
  let last = "";
  for (let index = 0; index < count; index++) {
    last = decoder.decode(ring.receive());
    if (last !== messageText(index)) {
      throw new Error(`message ${index} arrived as ${JSON.stringify(last.slice(0, 40))}`);
    }
  }
  return { received: count, last: last.replace(/~+$/, "").trimEnd() };
}

/** A child process running one side of the ring. */
interface Side {
  /** Resolves with what it printed once it exits successfully; rejects if it fails. */
  done: Promise<string>;
  /** Stops it (when the other side failed, it would wait for it forever). */
  stop(): void;
}

/** Runs this script in a role under a runtime, as the runtime table says to run a script. */
function start(runtime: Runtime, args: string[]): Side {
  const script = fileURLToPath(import.meta.url);
  let child: ChildProcess;
  try {
    child = spawn(binary(runtime), runtime.scriptArgs(script, args), {
      stdio: ["ignore", "pipe", "inherit"],
    });
  } catch (error) {
    // Bun throws at once for a binary it cannot start; Deno and Node emit "error".
    return { done: Promise.reject(error), stop: () => {} };
  }
  let output = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (text: string) => (output += text));
  const done = new Promise<string>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) resolve(output.trim());
      else reject(new Error(`the ${runtime.name} ${args[0]}r failed: ${signal ?? `exit ${code}`}`));
    });
  });
  return { done, stop: () => child.kill() };
}

/** What the parent was asked to do: how many messages, from which runtime to which. */
export interface Options {
  count: number;
  producer: Runtime;
  consumer: Runtime;
}

/** Reads `[COUNT] [--producer NAME] [--consumer NAME]`; throws a clear error for anything else. */
export function parseArguments(args: readonly string[]): Options {
  let count = 100_000;
  let producer: Runtime = current;
  let consumer: Runtime | null = null;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === "--producer" || arg === "--consumer") {
      const name = args[++index];
      if (name === undefined) {
        throw new Error(`${arg} takes a runtime: ${RUNTIME_NAMES.join(", ")}`);
      }
      if (arg === "--producer") producer = runtimeNamed(name);
      else consumer = runtimeNamed(name);
    } else if (/^\d+$/.test(arg)) {
      count = Number(arg);
    } else {
      throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (!Number.isSafeInteger(count)) throw new Error(`COUNT is too large: ${count}`);
  // By default the consumer is the runtime after the producer in the table (wrapping round).
  consumer ??=
    runtimes[RUNTIME_NAMES[(RUNTIME_NAMES.indexOf(producer.name) + 1) % RUNTIME_NAMES.length]];
  return { count, producer, consumer };
}

/** One side: opens the ring the parent made, sends or receives, and prints a JSON report. */
function runSide(role: "produce" | "consume", name: string, count: number): void {
  parent = process.ppid;
  const shared = shm.open(name, 0, { create: false }); // the parent made it
  const ring = new Ring(shared);
  const started = performance.now();
  const report = role === "produce"
    ? (produce(ring, count), { sent: count })
    : consume(ring, count);
  const seconds = (performance.now() - started) / 1000;
  shared.unmap();
  console.log(JSON.stringify({ runtime: current.title, pid: process.pid, ...report, seconds }));
}

const USAGE = `usage: ipc.ts [COUNT] [--producer ${RUNTIME_NAMES.join("|")}] ` +
  `[--consumer ${RUNTIME_NAMES.join("|")}]`;

/** Makes the ring, runs the two sides on it, and prints their reports. */
async function exchange({ count, producer, consumer }: Options): Promise<void> {
  const name = `/mmap-ipc-${process.pid}`;
  const shared = shm.open(name, RING_BYTES, { exclusive: true });
  try {
    const sides = [
      start(producer, ["produce", name, String(count)]),
      start(consumer, ["consume", name, String(count)]),
    ];
    // If one side fails, the other would wait for it forever: stop both.
    for (const side of sides) side.done.catch(() => sides.forEach((each) => each.stop()));
    const [sent, received] = await Promise.all(sides.map((side) => side.done));
    console.log(`producer: ${sent}`);
    console.log(`consumer: ${received}`);
    console.log(
      `${count} messages went from ${producer.title} to ${consumer.title} through ${name}, ` +
        "each once and in order",
    );
  } finally {
    shared.unlink();
    shared.unmap();
  }
}

async function main(args: string[]): Promise<void> {
  const [role, name, countText] = args;
  if (role === "produce" || role === "consume") {
    try {
      return runSide(role, name, Number(countText));
    } catch (error) {
      console.error(`ipc.ts ${role}: ${(error as Error).message}`);
      process.exit(1);
    }
  }
  let options: Options;
  try {
    options = parseArguments(args);
  } catch (error) {
    console.error(`ipc.ts: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  try {
    await exchange(options);
  } catch (error) {
    console.error(`ipc.ts: ${(error as Error).message}`);
    process.exit(1);
  }
}

if (import.meta.main) await main(process.argv.slice(2));
