// Memory lifetime: a mapping handed to an asynchronous built-in, then unmapped, resized,
// dropped or collected, or moved by any transfer route, never crashes the process, never
// reaches the file after unmap(), and never touches another mapping. Each case runs in a child
// process of the runtime under test (a failure there is a signal, not a dead test runner) and
// prints "ok" once its own checks hold.
import assert from "node:assert/strict";
import { root, runSource, runtime, test } from "./harness.ts";
import type { RuntimeName } from "./support/runtimes.ts";

interface Case {
  /** What the child does. */
  name: string;
  /** The child's source, after the prelude. */
  source: string;
  /** Only on this runtime (where the built-in exists). */
  only?: RuntimeName;
}

/** What every child starts with: the library, temp files in its own TMPDIR, a forced GC. */
const PRELUDE = `
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import * as zlib from "node:zlib";
import * as nodeCrypto from "node:crypto";
import mmap, { anonymous, MmapError, open, windows } from ${JSON.stringify(`${root}/mod.ts`)};
import { current as runtime } from ${JSON.stringify(`${root}/tests/support/runtimes.ts`)};
import { startWorker } from ${JSON.stringify(`${root}/tests/support/workers.ts`)};
// deno-lint-ignore no-explicit-any
const g = globalThis as any;
let counter = 0;
const dir = os.tmpdir();
function name(): string { return path.join(dir, "f" + counter++); }
function file(bytes: number, fill: number): string {
  const p = name();
  fs.writeFileSync(p, new Uint8Array(bytes).fill(fill));
  return p;
}
function gc(): void { if (g.Bun) g.Bun.gc(true); else g.gc(); }
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
}
/** Large enough that an operation on it is still running when the next line runs. */
const N = 32 << 20;
const A = 0x41;
function onlyBytes(bytes: Uint8Array, allowed: number[]): boolean {
  for (let i = 0; i < bytes.length; i += 4093) if (!allowed.includes(bytes[i])) return false;
  return allowed.includes(bytes[bytes.length - 1]);
}
`;

const cases: Case[] = [
  // 1. unmap() or resize() while an async operation holds the buffer.
  {
    name: "fs.write of a mapping, then unmap(): the write completes, nothing crashes",
    source: `
      const m = open(file(N, A));
      const out = name();
      const fd = fs.openSync(out, "w");
      const written = new Promise<number>((resolve, reject) =>
        fs.write(fd, m, 0, N, 0, (error, n) => error ? reject(error) : resolve(n)));
      assert.equal(m.unmap(), true);
      const n = await written;
      fs.closeSync(fd);
      assert.equal(n, N);
      // Written before unmap: the file's bytes; after: zero pages, never another mapping's.
      assert.ok(onlyBytes(fs.readFileSync(out), [A, 0]));
      console.log("ok");
    `,
  },
  {
    name: "unmap() with a write still running lets go of the file at once; truncating it is safe", // /proc/self/maps needs it on Deno
    source: `
      const source = file(N, A);
      const m = open(source);
      const view = new Uint8Array(m.buffer, 4096, 4096); // a view that outlives unmap()
      const fd = fs.openSync(name(), "w");
      const written = new Promise((resolve) => fs.write(fd, m, 0, N, 0, resolve));
      m.unmap();
      const maps = fs.readFileSync("/proc/self/maps", "utf8");
      assert.ok(!maps.includes(source), "the file is no longer mapped");
      fs.truncateSync(source, 0); // would raise SIGBUS under a live mapping
      let sum = 0;
      for (let i = 0; i < view.length; i++) sum += view[i] ?? 0; // zero pages, or detached
      assert.equal(sum, 0);
      await written;
      fs.closeSync(fd);
      console.log("ok");
    `,
  },
  {
    name: "fs.promises.writeFile of a mapping, then unmap()",
    source: `
      const m = open(file(N, A));
      const out = name();
      const written = fs.promises.writeFile(out, m).then(() => "written", (e) => e.name);
      m.unmap();
      const outcome = await written;
      // Deno's own code refuses a buffer detached meanwhile (TypeError); Bun writes it.
      assert.ok(outcome === "written" || outcome === "TypeError", outcome);
      if (outcome === "written") assert.ok(onlyBytes(fs.readFileSync(out), [A, 0]));
      console.log("ok");
    `,
  },
  {
    name: "fs.read into a mapping, then unmap(): the mapped file gets nothing after unmap",
    source: `
      const source = file(N, 0x42);
      const target = file(N, A);
      const m = open(target, { mode: "rw" });
      const fd = fs.openSync(source, "r");
      const read = new Promise<number>((resolve, reject) =>
        fs.read(fd, m, 0, N, 0, (error, n) => error ? reject(error) : resolve(n)));
      m.unmap();
      await read.catch(() => 0);
      fs.closeSync(fd);
      // What the read wrote before unmap() returned may be there; nothing after it.
      assert.ok(onlyBytes(fs.readFileSync(target), [A, 0x42]));
      console.log("ok");
    `,
  },
  {
    name: "zlib.deflate of a mapping, then unmap()",
    source: `
      // Deno's zlib throws its own TypeError (Node's a RangeError) for any input detached
      // meanwhile (a plain Uint8Array too); that is an exception, not a crash.
      process.on("uncaughtException", (error) => {
        assert.match(String(error), /invalid input range|input buffer is out of bounds/);
        console.log("ok (the runtime's own TypeError)");
        process.exit(0);
      });
      const m = open(file(N, A));
      const deflated = new Promise<number>((resolve, reject) =>
        zlib.deflate(m, (error, result) => error ? reject(error) : resolve(result.length)));
      m.unmap();
      assert.ok((await deflated) > 0);
      console.log("ok");
    `,
  },
  {
    name: "crypto.pbkdf2 of a mapping, then unmap()",
    source: `
      const m = open(file(N, A));
      const key = new Promise<Buffer>((resolve, reject) =>
        nodeCrypto.pbkdf2(m, "salt", 1, 32, "sha256", (e, k) => e ? reject(e) : resolve(k)));
      m.unmap();
      assert.equal((await key).length, 32);
      console.log("ok");
    `,
  },
  {
    name: "fs.write of a mapping, then resize(): the new mapping keeps the data",
    source: `
      let m = anonymous(N);
      m.fill(A);
      const out = name();
      const fd = fs.openSync(out, "w");
      const written = new Promise<number>((resolve, reject) =>
        fs.write(fd, m, 0, N, 0, (error, n) => error ? reject(error) : resolve(n)));
      m = m.resize(2 * N);
      assert.equal(m[N - 1], A);
      assert.equal(m[N], 0);
      assert.equal(await written, N);
      fs.closeSync(fd);
      assert.ok(onlyBytes(fs.readFileSync(out), [A, 0]));
      m.unmap();
      console.log("ok");
    `,
  },
  {
    name: "windows() moving on while fs.write still reads each window",
    source: `
      const source = file(N, A);
      const out = name();
      const fd = fs.openSync(out, "w");
      const writes: Promise<number>[] = [];
      let at = 0;
      for (const w of windows(source, { size: 1 << 20 })) {
        const position = at;
        writes.push(new Promise((resolve, reject) =>
          fs.write(fd, w, 0, w.length, position, (e, n) => e ? reject(e) : resolve(n))));
        at += w.length;
      }
      const total = (await Promise.all(writes)).reduce((a, b) => a + b, 0);
      fs.closeSync(fd);
      assert.equal(total, N);
      assert.ok(onlyBytes(fs.readFileSync(out), [A, 0]));
      console.log("ok");
    `,
  },
  // 2. The address is reused while an old read is still pending. The read waits on a FIFO
  // and gets its data only after the next mapping (likely at the same address) was written.
  {
    name: "a read pending on an unmapped mapping never writes into the next mapping",
    source: `
      const fifo = name();
      assert.equal((await import("node:child_process")).spawnSync("mkfifo", [fifo]).status, 0);
      const fd = fs.openSync(fifo, fs.constants.O_RDWR); // both ends, without blocking
      const first = open(file(1 << 20, A), { mode: "rw" });
      const read = new Promise((resolve) => fs.read(fd, first, 0, 4096, null, resolve));
      first.unmap();
      const second = name();
      const next = open(second, { mode: "rw", size: 1 << 20 });
      next.fill(0x43);
      next.sync();
      fs.writeSync(fd, new Uint8Array(4096).fill(0x42)); // now the pending read completes
      await read;
      fs.closeSync(fd);
      next.sync();
      next.unmap();
      assert.ok(fs.readFileSync(second).every((byte) => byte === 0x43), "the second file is intact");
      console.log("ok");
    `,
  },
  {
    name: "FsFile.read pending on an unmapped mapping never writes into the next mapping",
    only: "deno",
    source: `
      const fifo = name();
      assert.equal((await import("node:child_process")).spawnSync("mkfifo", [fifo]).status, 0);
      const reading = Deno.open(fifo, { read: true });
      const writer = await Deno.open(fifo, { write: true });
      const reader = await reading;
      const first = open(file(1 << 20, A), { mode: "rw" });
      const read = reader.read(first);
      first.unmap();
      const second = name();
      const next = open(second, { mode: "rw", size: 1 << 20 });
      next.fill(0x43);
      next.sync();
      await writer.write(new Uint8Array(4096).fill(0x42)); // now the pending read completes
      await read;
      reader.close();
      writer.close();
      next.sync();
      next.unmap();
      assert.ok(fs.readFileSync(second).every((byte) => byte === 0x43), "the second file is intact");
      console.log("ok");
    `,
  },
  // 3. A mapping dropped while an async operation uses it, and collected mid-operation.
  {
    name: "crypto.pbkdf2 of a dropped mapping survives garbage collection",
    source: `
      const big = file(N, A);
      const expected = nodeCrypto.pbkdf2Sync(fs.readFileSync(big), "salt", 1, 32, "sha256");
      const key = new Promise<Buffer>((resolve, reject) =>
        nodeCrypto.pbkdf2(open(big), "salt", 1, 32, "sha256", (e, k) => e ? reject(e) : resolve(k)));
      let churn: unknown[] = [];
      for (let i = 0; i < 200; i++) churn.push(new Uint8Array(1 << 16));
      churn = [];
      await settle();
      assert.deepEqual(await key, expected);
      console.log("ok");
    `,
  },
  {
    name: "fs.promises.writeFile of a dropped mapping writes all of it",
    source: `
      const big = file(N, A);
      const out = name();
      const written = fs.promises.writeFile(out, open(big));
      await settle();
      await written;
      assert.deepEqual(fs.readFileSync(out), fs.readFileSync(big));
      console.log("ok");
    `,
  },
  {
    name: "FsFile.write of a dropped mapping writes all of it",
    only: "deno",
    source: `
      const size = 8 * N; // long enough that the collection comes mid-write
      const big = file(size, A);
      const out = name();
      const handle = await Deno.open(out, { write: true, create: true });
      const written = handle.write(open(big)); // no other reference to the mapping
      gc();
      await settle();
      assert.equal(await written, size);
      handle.close();
      assert.deepEqual(fs.readFileSync(out), fs.readFileSync(big));
      console.log("ok");
    `,
  },
  {
    name: "Deno.writeFile of a mapping, then unmap()",
    only: "deno",
    source: `
      const m = open(file(N, A));
      const out = name();
      const written = Deno.writeFile(out, m).then(() => "written", (e) => e.name);
      m.unmap();
      assert.ok(["written", "TypeError"].includes(await written));
      console.log("ok");
    `,
  },
  {
    name: "Bun.write of a mapping, then unmap()",
    only: "bun",
    source: `
      const m = open(file(N, A));
      const out = name();
      const written = g.Bun.write(out, m);
      m.unmap();
      assert.equal(await written, N);
      assert.ok(onlyBytes(fs.readFileSync(out), [A, 0]));
      console.log("ok");
    `,
  },
  {
    name: "crypto.subtle.digest of a mapping, then unmap()",
    source: `
      const m = open(file(N, A));
      const digest = crypto.subtle.digest("SHA-256", m);
      m.unmap();
      assert.equal((await digest).byteLength, 32);
      console.log("ok");
    `,
  },
  {
    name: "a Blob and a Response over a mapping, then unmap()",
    source: `
      const m = open(file(N, A));
      const blob = new Blob([m]);
      const body = new Response(m).arrayBuffer();
      m.unmap();
      assert.equal((await blob.arrayBuffer()).byteLength, N);
      assert.equal((await body).byteLength, N);
      console.log("ok");
    `,
  },
  {
    name: "a socket writing a mapping, then unmap()",
    source: `
      const net = await import("node:net");
      const m = open(file(N, A));
      let received = 0;
      const server = net.createServer((socket) => {
        socket.on("data", (chunk) => received += chunk.length);
        socket.on("error", () => {});
        socket.on("end", () => socket.end());
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      const client = net.connect(port, "127.0.0.1");
      await new Promise((resolve) => client.on("connect", resolve));
      // A write of a buffer detached meanwhile may fail (EPIPE, ...): an error, not a crash.
      client.on("error", () => {});
      client.write(m);
      m.unmap();
      client.end();
      await new Promise((resolve) => client.on("close", resolve));
      server.close();
      assert.ok(received <= N);
      console.log("ok");
    `,
  },
  {
    name: "a BYOB stream reader filling a mapping, then the Mapping collected",
    source: `
      // A BYOB read transfers the view's buffer to the stream and back: a route the library
      // never sees. The memory must stay valid for whoever ends up with it.
      const stream = new ReadableStream({
        type: "bytes",
        async pull(controller) {
          const request = controller.byobRequest!;
          await new Promise((r) => setTimeout(r, 20));
          new Uint8Array(request.view!.buffer, request.view!.byteOffset, 4).fill(0x44);
          request.respond(4);
        },
      });
      const reader = stream.getReader({ mode: "byob" });
      let m: Uint8Array | null = open(file(1 << 20, A), { mode: "copy" });
      const pending = reader.read(m.subarray(0, 4096));
      m = null;
      await settle();
      const { value } = await pending;
      assert.deepEqual([...value!], [0x44, 0x44, 0x44, 0x44]);
      const whole = new Uint8Array(value!.buffer);
      assert.equal(whole.length, 1 << 20, "the whole mapping came back");
      assert.equal(whole[4], A, "the rest is still the file's bytes");
      assert.equal(whole[whole.length - 1], A);
      console.log("ok");
    `,
  },
  // 4. Transfers the library cannot see.
  {
    name: "every transfer route after the Mapping is collected keeps the memory for its new owner",
    source: `
      const capturedClone = structuredClone; // captured as if before the library loaded
      type Move = (b: ArrayBuffer) => ArrayBuffer | Promise<ArrayBuffer>;
      // Where the runtime refuses to hand foreign memory to another owner (Node), these throw
      // a DataCloneError and leave the buffer where it was.
      const cloning: [string, Move][] = [
        ["structuredClone", (b) => capturedClone(b, { transfer: [b] })],
        ["getter", (b) => capturedClone(b, { get transfer() { return [b]; } })],
        ["iterator", (b) => capturedClone(b, { transfer: { *[Symbol.iterator]() { yield b; } } as any })],
        ["proxy", (b) => capturedClone(b, { transfer: new Proxy([b], {}) })],
        ["MessageChannel", (b) => new Promise((resolve, reject) => {
          const { port1, port2 } = new MessageChannel();
          const close = () => { port1.close(); port2.close(); };
          port2.onmessage = (event) => { resolve(event.data); close(); };
          try { port1.postMessage(b, [b]); } catch (error) { close(); reject(error); }
        })],
      ];
      const routes: [string, Move][] = [
        ["transfer.call", (b) => ArrayBuffer.prototype.transfer.call(b)],
        ["transferToFixedLength", (b) => b.transferToFixedLength()],
        ...cloning.map(([route, move]): [string, Move] => runtime.transfersForeignBuffers
          ? [route, move]
          : [route, async (b) => {
            await assert.rejects(async () => await move(b), { name: "DataCloneError" }, route);
            assert.equal(b.byteLength, 1 << 20, route + ": left where it was");
            return b;
          }]),
      ];
      for (const [route, move] of routes) {
        let view: Uint8Array | null = (() => {
          const m = open(file(1 << 20, A), { mode: "copy" });
          return new Uint8Array(m.buffer, 4096, 4096); // keeps the buffer, not the Mapping
        })();
        await settle(); // the Mapping is collected; the view keeps its buffer
        const moved = await move(view.buffer as ArrayBuffer);
        view = null;
        await settle(); // the old buffer object is collected too
        const bytes = new Uint8Array(moved);
        assert.equal(bytes.length, 1 << 20, route);
        assert.ok(onlyBytes(bytes, [A]), route);
        bytes[0] = 1;
      }
      console.log("ok");
    `,
  },
  {
    name: "a mapping's buffer transferred to a Worker outlives the Mapping",
    source: `
      const script = path.join(dir, "worker.ts");
      fs.writeFileSync(script, "import { workerScope } from " +
        JSON.stringify(${JSON.stringify(`${root}/tests/support/workers.ts`)}) + ";\\n" +
        "const scope = workerScope();\\n" +
        "scope.onMessage((data) => { setTimeout(() => { " +
        "const b = new Uint8Array(data as ArrayBuffer); let sum = 0; " +
        "for (let i = 0; i < b.length; i += 4096) sum += b[i]; scope.postMessage(sum); }, 100); });\\n");
      const worker = startWorker(new URL("file://" + script));
      const answer = worker.next();
      if (!runtime.transfersForeignBuffers) {
        // Node refuses to move foreign memory to another thread: the mapping stays whole.
        const m = open(file(1 << 20, A), { mode: "copy" });
        assert.throws(() => worker.postMessage(m.buffer, [m.buffer]), { name: "DataCloneError" });
        assert.equal(m.length, 1 << 20);
        assert.equal(m.unmap(), true);
        worker.terminate();
        console.log("ok (refused)");
        process.exit(0);
      }
      (() => {
        const m = open(file(1 << 20, A), { mode: "copy" });
        worker.postMessage(m.buffer, [m.buffer]);
        assert.throws(() => m.unmap(), (e: unknown) => e instanceof MmapError && e.code === "ERR_MMAP_DETACHED");
      })();
      await settle();
      assert.equal(await answer, A * 256);
      worker.terminate();
      console.log("ok");
    `,
  },
  // 5. Read-only mappings and built-ins that ignore immutability.
  {
    name:
      'built-ins writing into an "r" mapping change neither the file nor crash, also after unmap',
    source: `
      const source = file(1 << 16, A);
      const writers: [string, (m: Uint8Array) => void][] = [
        ["encodeInto", (m) => new TextEncoder().encodeInto("written", m)],
        ["getRandomValues", (m) => crypto.getRandomValues(m.subarray(0, 1024))],
        ["randomFillSync", (m) => nodeCrypto.randomFillSync(m.subarray(0, 1024))],
        ["Buffer#write", (m) => Buffer.from(m.buffer, m.byteOffset, m.length).write("written")],
      ];
      for (const [writer, write] of writers) {
        const m = open(source);
        try { write(m); } catch (error) { assert.ok(error instanceof TypeError, writer); }
        const kept = new Uint8Array(m.buffer); // a view that outlives unmap()
        m.unmap();
        try { write(kept); } catch (error) { assert.ok(error instanceof TypeError, writer); }
        assert.ok(fs.readFileSync(source).every((byte) => byte === A), writer);
      }
      console.log("ok");
    `,
  },
  // 6. Too many live mappings.
  {
    name: "a synchronous loop dropping 100,000 file mappings ends cleanly",
    source: `
      const source = file(4096, A);
      let refused = 0;
      for (let i = 0; i < 100_000; i++) {
        try {
          if (open(source)[0] !== A) throw new Error("wrong byte");
        } catch (error) {
          assert.ok(error instanceof MmapError && error.code === "ENOMEM", String(error));
          refused++;
        }
      }
      // The runtime itself still works: it can allocate and map.
      const after = new Uint8Array(64 << 20).fill(1);
      assert.equal(after[after.length - 1], 1);
      console.log("ok " + refused + " refused");
    `,
  },
  {
    name: "too many live mappings is a catchable ENOMEM that says to unmap()",
    source: `
      const kept = [];
      let error: unknown;
      try {
        for (let i = 0; i < 70_000; i++) kept.push(anonymous(4096));
      } catch (caught) {
        error = caught;
      }
      assert.ok(error instanceof MmapError, String(error));
      assert.equal(error.code, "ENOMEM");
      assert.equal(error.syscall, "mmap");
      assert.ok(error.errno! > 0);
      assert.match(error.message, /unmap\\(\\)/);
      assert.match(error.message, /using/);
      assert.ok(kept.length > 1000);
      for (const m of kept) m.unmap();
      const again = anonymous(4096); // room again
      again.unmap();
      console.log("ok " + kept.length + " live at the limit");
    `,
  },
];

for (const item of cases) {
  if (item.only !== undefined && item.only !== runtime.name) continue;
  test(`${runtime.name}: ${item.name}`, () => {
    // All permissions (Deno: FIFOs, /proc/self) and gc() exposed.
    const result = runSource(runtime, PRELUDE + item.source);
    assert.equal(result.signal, null, `killed by ${result.signal}: ${result.stderr}`);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^ok/m, result.stdout + result.stderr);
  }, 60_000);
}
