// A first look: write a file through a shared mapping, read it back, and share memory by name.
// Run: deno run --allow-ffi --allow-read --allow-write --allow-env examples/quickstart.ts
//  or: bun run examples/quickstart.ts
//  or: node --disable-warning=ExperimentalWarning examples/quickstart.ts
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { open, PAGESIZE, shm } from "../mod.ts";

// "Deno/2.9.6", "Bun/1.4.4", "Node.js/26": the runtime's name comes first.
const runtime = navigator.userAgent.split("/")[0];
const file = path.join(os.tmpdir(), `mmap-quickstart-${process.pid}.txt`);

// 1. Map a file for writing: size creates it at 4096 bytes (sparse, zero-filled).
{
  using page = open(file, { mode: "rw", size: 4096 });
  page.set(new TextEncoder().encode(`hello from ${runtime} through a mapping\n`));
  page.sync(); // msync: the bytes are in the file now
} // `using` unmapped it here
console.log("file says:", fs.readFileSync(file, "utf8").split("\n")[0]);

// 2. Map it again read-only, without a copy, from any byte offset.
{
  using view = open(file, { offset: 6, length: 4 });
  console.log(
    `mapped ${view.length} bytes at offset ${view.offset}: "${new TextDecoder().decode(view)}"`,
  );
}
fs.rmSync(file);

// 3. POSIX shared memory: any process that opens the same name sees the same bytes.
{
  using shared = shm.open("/mmap-quickstart", 4096);
  const counter = new Int32Array(shared.buffer, 0, 1);
  Atomics.add(counter, 0, 1);
  console.log(`shared counter is ${Atomics.load(counter, 0)} (page size ${PAGESIZE})`);
  shared.unlink(); // remove the name; the memory goes with the last mapping
}
