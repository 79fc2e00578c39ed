import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import mmap, * as named from "../mod.ts";
import { test } from "./harness.ts";

const NAMES = [
  "PROT_READ",
  "PROT_WRITE",
  "PROT_EXEC",
  "PROT_NONE",
  "MAP_SHARED",
  "MAP_PRIVATE",
  "MAP_ANONYMOUS",
  "MAP_ANON",
  "MS_SYNC",
  "MS_ASYNC",
  "MS_INVALIDATE",
  "PAGESIZE",
] as const;

test("every constant is an integer on the default export and as a named export", () => {
  for (const name of NAMES) {
    assert.ok(Number.isInteger(mmap[name]), name);
    assert.equal(named[name], mmap[name], name);
  }
});

test("PAGESIZE is what the OS reports", () => {
  const reported = spawnSync("getconf", ["PAGESIZE"], { encoding: "utf8" }).stdout.trim();
  assert.equal(mmap.PAGESIZE, Number(reported));
});

test("the constants carry the Linux values on Linux", () => {
  assert.deepEqual(
    NAMES.filter((name) => name !== "PAGESIZE").map((name) => mmap[name]),
    [1, 2, 4, 0, 1, 2, 0x20, 0x20, 4, 1, 2],
  );
});

test("map is the same function as mmap", () => {
  assert.equal(mmap.map, named.mmap);
  assert.equal(typeof mmap, "function");
  assert.equal(typeof mmap.map_shm, "function");
});

test("the default export cannot be modified", () => {
  assert.throws(() => {
    (mmap as unknown as Record<string, number>).PAGESIZE = 1;
  }, TypeError);
});
