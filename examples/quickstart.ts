// A first look: write a file through a shared mapping, read it back, and share memory by name.
// Run: deno run --allow-ffi --allow-read --allow-write --allow-env examples/quickstart.ts
//  or: bun run examples/quickstart.ts
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import mmap from "../mod.ts";

const runtime = "Bun" in globalThis ? "Bun" : "Deno";
const file = path.join(os.tmpdir(), `mmap-quickstart-${process.pid}.txt`);

// 1. Map a file by name: PROT_WRITE creates it at 4096 bytes.
const page = mmap(4096, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, file);
page.set(new TextEncoder().encode(`hello from ${runtime} through a mapping\n`));
page.sync(); // msync: the bytes are in the file now
console.log("file says:", fs.readFileSync(file, "utf8").split("\n")[0]);
page.unmap(); // returns true; the buffer now has length 0

// 2. Map it again read-only, without a copy.
const view = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, file);
console.log(
  `mapped ${view.length} bytes; first byte ${view[0]} ('${String.fromCharCode(view[0])}')`,
);
view.unmap();
fs.rmSync(file);

// 3. POSIX shared memory: any process that maps the same name sees the same bytes.
const shared = mmap.map_shm(
  4096,
  mmap.PROT_READ | mmap.PROT_WRITE,
  mmap.MAP_SHARED,
  "/mmap-quickstart",
);
const counter = new Int32Array(shared.buffer, 0, 1);
Atomics.add(counter, 0, 1);
console.log(`shared counter is ${Atomics.load(counter, 0)} (page size ${mmap.PAGESIZE})`);
shared.unlink(); // remove the name; the memory goes with the last mapping
shared.unmap();
