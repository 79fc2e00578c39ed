// Loading the native library: the symbol table matches the library, it is looked up in order
// (MMAP_FFI_LIB, the platform package, this checkout's build), and a missing library says what
// to install or build.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { symbols } from "../bindings/symbols.ts";
import { exportName } from "../bindings/convert.ts";
import { bunSymbols } from "../bindings/bun.ts";
import { nodeSignatures } from "../bindings/node.ts";
import {
  libraryFileName,
  libraryMissing,
  locateLibrary,
  platformPackage,
} from "../bindings/native.ts";
import { runFixture, runtime, test } from "./harness.ts";

test("the symbol table names exactly the library's exported symbols", () => {
  const library = locateLibrary(undefined).path;
  const listing = spawnSync("nm", ["-D", "--defined-only", library], { encoding: "utf8" });
  assert.equal(listing.status, 0, listing.stderr);
  const exported = listing.stdout.split("\n")
    .map((line) => line.trim().split(/\s+/)[2])
    .filter((name) => name?.startsWith("mmap_ffi_"))
    .sort();
  const named = new Set(Object.entries(symbols).map(([key, entry]) => exportName(key, entry)));
  assert.deepEqual(exported, [...named].sort());
});

test("a variant of a function names an exported symbol", () => {
  assert.equal(
    exportName("mmap_ffi_sync_nonblocking", symbols.mmap_ffi_sync_nonblocking),
    "mmap_ffi_sync",
  );
  assert.equal(exportName("mmap_ffi_sync", symbols.mmap_ffi_sync), "mmap_ffi_sync");
});

test("the Bun form of the table converts every parameter and result", () => {
  const converted = bunSymbols();
  for (const [key, definition] of Object.entries(symbols)) {
    const bun = converted[exportName(key, definition)];
    assert.equal(bun.args.length, definition.parameters.length, key);
    for (const type of [...bun.args, bun.returns]) assert.equal(typeof type, "string", key);
  }
  assert.deepEqual(converted.mmap_ffi_sync.args, [
    "usize",
    "u64",
    "usize",
    "usize",
    "i32",
    "ptr",
    "usize",
  ]);
  assert.deepEqual(converted.mmap_ffi_map_path.args.slice(0, 2), ["ptr", "usize"]);
});

test("the Node form of the table converts every parameter and result", () => {
  const converted = nodeSignatures();
  for (const [key, definition] of Object.entries(symbols)) {
    const node = converted[exportName(key, definition)];
    assert.equal(node.arguments.length, definition.parameters.length, key);
    for (const type of [...node.arguments, node.return]) assert.equal(typeof type, "string", key);
  }
  assert.deepEqual(converted.mmap_ffi_sync.arguments, [
    "u64",
    "u64",
    "u64",
    "u64",
    "i32",
    "buffer",
    "u64",
  ]);
  assert.equal(converted.mmap_ffi_map_path.return, "i32");
});

test("the library file and its package are named for the OS and CPU", () => {
  assert.equal(libraryFileName("linux"), "libmmap_ffi.so");
  assert.equal(libraryFileName("darwin"), "libmmap_ffi.dylib");
  assert.equal(platformPackage("linux", "x64"), "@mmap/mmap-linux-x64-gnu");
  assert.equal(platformPackage("linux", "arm64"), "@mmap/mmap-linux-arm64-gnu");
  assert.equal(platformPackage("darwin", "arm64"), "@mmap/mmap-darwin-arm64");
});

test("MMAP_FFI_LIB comes first; without a platform package, this checkout's build", () => {
  assert.deepEqual(locateLibrary("/custom/lib.so"), {
    path: "/custom/lib.so",
    from: "MMAP_FFI_LIB",
  });
  const checkout = locateLibrary(undefined, "linux", "x64");
  assert.equal(checkout.from, "checkout");
  assert.match(checkout.path, /\/target\/release\/libmmap_ffi\.so$/);
});

test("a library missing from the checkout fails with how to build it", () => {
  const error = libraryMissing({ path: "/x/target/release/libmmap_ffi.so", from: "checkout" }, 0);
  assert.match(
    error.message,
    /at \/x\/target\/release\/libmmap_ffi\.so \(built in this checkout\)/,
  );
  assert.match(error.message, /cargo build --release/);
  assert.match(
    error.message,
    new RegExp(`install ${platformPackage(process.platform, process.arch)}`),
  );
});

test("a missing library named by MMAP_FFI_LIB fails with what to fix", () => {
  const result = runFixture(runtime, "import_only.ts", []);
  assert.equal(result.status, 0, result.stderr);
  const missing = runFixture(runtime, "import_only.ts", [], {}, {
    MMAP_FFI_LIB: "/nonexistent/libmmap_ffi.so",
  });
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /cannot load the native library at \/nonexistent\/libmmap_ffi\.so/);
  assert.match(missing.stderr, /named by MMAP_FFI_LIB/);
  assert.match(
    missing.stderr,
    new RegExp(`install ${platformPackage(process.platform, process.arch)}`),
  );
  assert.match(missing.stderr, /Point MMAP_FFI_LIB at an existing libmmap_ffi, or unset it/);
});
