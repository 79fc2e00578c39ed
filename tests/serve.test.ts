// examples/serve.ts: a real server (node:http, on every runtime) on a free loopback port, fetched
// with fetch(), then stopped with SIGTERM.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { root, runtime, tempPath, test } from "./harness.ts";
import { binary } from "./support/runtimes.ts";

const script = path.join(root, "examples", "serve.ts");

/** Makes a folder holding `served/` (the root) and `secret.txt` beside it; returns both paths. */
function makeSite(files: Record<string, string | Uint8Array>): { folder: string; site: string } {
  const folder = tempPath("serve");
  const site = path.join(folder, "served");
  fs.mkdirSync(site, { recursive: true });
  fs.writeFileSync(path.join(folder, "secret.txt"), "outside the root");
  for (const [name, bytes] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(site, name)), { recursive: true });
    fs.writeFileSync(path.join(site, name), bytes);
  }
  return { folder, site };
}

/**
 * Starts serve.ts (with `options`) on a free 127.0.0.1 port, runs `body` with its URL, then stops
 * it.
 */
async function withServer(
  site: string,
  body: (url: string) => Promise<void>,
  options: string[] = [],
): Promise<void> {
  const args = runtime.scriptArgs(script, [site, "--port", "0", ...options], { net: true });
  const child = spawn(binary(runtime), args, {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const look = (text: string) => {
      output += text;
      const found = /on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (found) resolve(found[1]);
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    exited.then(() => reject(new Error(`serve.ts exited before listening:\n${output}`)));
  });
  try {
    await body(url);
  } finally {
    process.kill(child.pid!, "SIGTERM");
  }
  assert.equal(await exited, 0, output);
  assert.match(output, /stopped; every mapping unmapped/);
}

async function get(
  url: string,
  method = "GET",
): Promise<{ status: number; cache: string | null; length: string | null; bytes: Uint8Array }> {
  const response = await fetch(url, { method });
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    cache: response.headers.get("x-mmap-cache"),
    length: response.headers.get("content-length"),
    bytes,
  };
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

test("serve.ts answers with the bytes of the files under its root", async () => {
  const binary = Uint8Array.from({ length: 300_000 }, (_, index) => (index * 7919) % 251);
  const { folder, site } = makeSite({
    "hello.txt": "hello, mapped world\n",
    "data.bin": binary,
    "empty.txt": "",
    "docs/index.html": "<h1>docs</h1>",
  });
  try {
    await withServer(site, async (url) => {
      assert.equal(text((await get(url + "hello.txt")).bytes), "hello, mapped world\n");
      assert.deepEqual((await get(url + "data.bin")).bytes, binary);
      const empty = await get(url + "empty.txt");
      assert.equal(empty.status, 200);
      assert.equal(empty.bytes.length, 0);
      assert.equal(text((await get(url + "docs/")).bytes), "<h1>docs</h1>");
    });
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

test("serve.ts answers a repeated request from its cached mapping, and a changed file afresh", async () => {
  const { folder, site } = makeSite({ "page.txt": "first version" });
  try {
    await withServer(site, async (url) => {
      assert.equal((await get(url + "page.txt")).cache, "miss");
      const again = await get(url + "page.txt");
      assert.equal(again.cache, "hit");
      assert.equal(text(again.bytes), "first version");
      fs.writeFileSync(path.join(site, "page.txt"), "second version, longer");
      const changed = await get(url + "page.txt");
      assert.equal(changed.cache, "miss");
      assert.equal(text(changed.bytes), "second version, longer");
    });
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

test("serve.ts refuses paths that leave its root and says 404 for missing files", async () => {
  const { folder, site } = makeSite({ "inside.txt": "in" });
  try {
    await withServer(site, async (url) => {
      const escape = await get(url + "%2E%2E%2Fsecret.txt");
      assert.equal(escape.status, 403);
      assert.doesNotMatch(text(escape.bytes), /outside the root/);
      assert.equal((await get(url + "missing.txt")).status, 404);
    });
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

test("serve.ts unmaps the least recently used file beyond --cache, and still answers it whole", async () => {
  const big = Uint8Array.from({ length: 200_000 }, (_, index) => (index * 31) % 256);
  const { folder, site } = makeSite({ "a.bin": big, "b.txt": "bee" });
  try {
    await withServer(site, async (url) => {
      const first = await get(url + "a.bin");
      assert.equal(first.cache, "miss");
      assert.deepEqual(first.bytes, big);
      assert.equal((await get(url + "b.txt")).cache, "miss"); // a.bin is unmapped now
      const again = await get(url + "a.bin");
      assert.equal(again.cache, "miss");
      assert.deepEqual(again.bytes, big);
      assert.equal((await get(url + "a.bin")).cache, "hit");
    }, ["--cache", "1"]);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

test("serve.ts answers HEAD with the length alone, lists folders, and refuses other methods", async () => {
  const { folder, site } = makeSite({ "notes.md": "# notes\n", "sub/deeper.txt": "down here" });
  try {
    await withServer(site, async (url) => {
      const head = await get(url + "notes.md", "HEAD");
      assert.equal(head.status, 200);
      assert.equal(head.length, "8");
      assert.equal(head.bytes.length, 0);
      const listing = text((await get(url)).bytes);
      assert.match(listing, /href="\/notes\.md"/);
      assert.match(listing, /href="\/sub"[^>]*>sub\/</);
      assert.equal((await get(url + "notes.md", "POST")).status, 405);
    });
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});
