// A smoke test of one prebuilt library, through the public API: `.ci/dist_binaries.py` runs it
// under Node 26 (on arm64 under qemu-user) with MMAP_FFI_LIB naming the library to test. It
// maps a file it wrote (shared, then read back), anonymous memory, and a file through the node
// `mmap` API (a Node-API buffer, which exercises napi_register_module_v1), then prints "ok".
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { arch, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import mmapApi, { anonymous, MAP_SHARED, open, PROT_READ } from "../mod.ts";

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`dist smoke test: ${what}`);
}

const library = process.env.MMAP_FFI_LIB;
check(library !== undefined && library !== "", "MMAP_FFI_LIB must name the library to test");

const folder = mkdtempSync(join(tmpdir(), "mmap-dist-smoke-"));
try {
  const path = join(folder, "text.txt");
  writeFileSync(path, "hello from a mapped file\n");

  const page = open(path);
  const text = new TextDecoder().decode(page);
  page.unmap();
  check(text === "hello from a mapped file\n", `open() read ${JSON.stringify(text)}`);

  const writable = open(path, { mode: "rw" });
  writable.set(new TextEncoder().encode("HELLO"));
  writable.sync();
  writable.unmap();
  const written = readFileSync(path, "utf8");
  check(written === "HELLO from a mapped file\n", `a shared write left ${JSON.stringify(written)}`);

  const memory = anonymous(1 << 16);
  memory.fill(7);
  check(memory.length === 1 << 16 && memory[12345] === 7, "anonymous() memory");
  memory.unmap();

  const buffer = mmapApi(5, PROT_READ, MAP_SHARED, path, 0);
  check(buffer.toString() === "HELLO", `the node mmap API read ${JSON.stringify(String(buffer))}`);

  console.log(`ok: ${navigator.userAgent} on ${arch()}, read ${JSON.stringify(text.trim())}`);
} finally {
  rmSync(folder, { recursive: true, force: true });
}
