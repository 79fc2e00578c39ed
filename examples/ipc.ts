// A single-producer single-consumer ring buffer in POSIX shared memory: a Deno process sends
// messages, a Bun process receives them, and two Atomics indices are all they share to agree.
// Run: deno run --allow-ffi --allow-read --allow-env --allow-run examples/ipc.ts [COUNT]
//  or: bun run examples/ipc.ts [COUNT]
// It starts `ipc.ts produce NAME COUNT` under Deno and `ipc.ts consume NAME COUNT` under Bun
// (`--producer bun` swaps them); DENO_BIN and BUN_BIN say where the runtimes are.
import { spawn } from "node:child_process";
import process from "node:process";
import { shm } from "../mod.ts";

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
  return spins;
}
const pause = new Int32Array(new SharedArrayBuffer(4));

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

function binary(runtime: "deno" | "bun"): string {
  const fromEnv = process.env[runtime === "deno" ? "DENO_BIN" : "BUN_BIN"];
  if (fromEnv) return fromEnv;
  const current = "Bun" in globalThis ? "bun" : "deno";
  return runtime === current ? process.execPath : runtime;
}

/** Runs this script in a role under a runtime; resolves with what it printed. */
function start(runtime: "deno" | "bun", args: string[]): Promise<string> {
  const script = decodeURIComponent(new URL(import.meta.url).pathname);
  const command = runtime === "deno"
    ? ["run", "--allow-ffi", "--allow-read", "--allow-env", script, ...args]
    : ["run", script, ...args];
  const child = spawn(binary(runtime), command, { stdio: ["ignore", "pipe", "inherit"] });
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (text: string) => (output += text));
  return new Promise((resolve, reject) =>
    child.on(
      "close",
      (code) =>
        code === 0
          ? resolve(output.trim())
          : reject(new Error(`${runtime} ${args[0]}: exit ${code}`)),
    )
  );
}

async function main(args: string[]): Promise<void> {
  const [role, name, countText] = args;
  if (role === "produce" || role === "consume") {
    const shared = shm.open(name, 0, { create: false }); // the parent made it
    const ring = new Ring(shared);
    const started = performance.now();
    const report = role === "produce"
      ? (produce(ring, Number(countText)), { sent: Number(countText) })
      : consume(ring, Number(countText));
    const seconds = (performance.now() - started) / 1000;
    const runtime = "Bun" in globalThis ? "Bun" : "Deno";
    shared.unmap();
    console.log(JSON.stringify({ runtime, pid: process.pid, ...report, seconds }));
    return;
  }
  const producerIndex = args.indexOf("--producer");
  const producer = producerIndex >= 0 && args[producerIndex + 1] === "bun" ? "bun" : "deno";
  const consumer = producer === "deno" ? "bun" : "deno";
  const count = Number(args.find((arg) => /^\d+$/.test(arg)) ?? 100_000);
  const shmName = `/mmap-ipc-${process.pid}`;
  const shared = shm.open(shmName, RING_BYTES, { exclusive: true });
  try {
    const [sent, received] = await Promise.all([
      start(producer, ["produce", shmName, String(count)]),
      start(consumer, ["consume", shmName, String(count)]),
    ]);
    console.log(`producer: ${sent}`);
    console.log(`consumer: ${received}`);
    console.log(
      `${count} messages went from ${producer} to ${consumer} through ${shmName}, ` +
        "each once and in order",
    );
  } finally {
    shared.unlink();
    shared.unmap();
  }
}

if (import.meta.main) await main(process.argv.slice(2));
