// Node's permission model (`node --permission`) applies to files mapped by name exactly as to
// Node's own file operations: read access to map a file, write access too for "rw" or
// PROT_WRITE, nothing created or grown without it; and a missing --allow-ffi or --allow-addons
// is named. Runs Node as a child, so it checks the same under every test runner.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { root, run, test } from "./harness.ts";
import { binary, runtimes } from "./support/runtimes.ts";

/** The flags every child here gets: the permission model on, the library's files readable. */
function permissionFlags(folder: string, extra: string[]): string[] {
  return [
    "--disable-warning=ExperimentalWarning",
    "--permission",
    `--allow-fs-read=${root}`,
    `--allow-fs-read=${folder}`,
    ...extra,
  ];
}

/** Runs `source` (importing the library as `m`) under Node with the permission model on. */
function node(folder: string, flags: string[], source: string) {
  const script = path.join(folder, "main.ts");
  const prelude = `import * as m from ${JSON.stringify(`${root}/mod.ts`)};\n`;
  fs.writeFileSync(script, prelude + source);
  return run(binary(runtimes.node), [...permissionFlags(folder, flags), script], undefined, folder);
}

/** A folder for the child's script, and one beside it for the files it maps. */
function withFolders(body: (scripts: string, data: string) => void): void {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-test-node-permission-"));
  const scripts = path.join(base, "scripts");
  const data = path.join(base, "data");
  fs.mkdirSync(scripts);
  fs.mkdirSync(data);
  try {
    body(scripts, data);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

/** Every way of mapping `file` by name, with its outcome: the text read, or the error's code. */
const EVERY_WAY = `
const outcome = (body: () => Uint8Array | string) => {
  try {
    const value = body();
    return typeof value === "string" ? value : new TextDecoder().decode(value);
  } catch (error) {
    return "error " + ((error as { code?: string }).code ?? (error as Error).name);
  }
};
const [file, created] = JSON.parse(process.argv[2] ?? "[]");
console.log(JSON.stringify({
  open: outcome(() => m.open(file)),
  "open rw": outcome(() => { const w = m.open(file, { mode: "rw" }); w[0] = 105; w.unmap(); return "written"; }),
  "open copy": outcome(() => m.open(file, { mode: "copy" })),
  "node API read": outcome(() => m.default(0, m.PROT_READ, m.MAP_SHARED, file)),
  "node API write": outcome(() => m.default(0, m.PROT_READ | m.PROT_WRITE, m.MAP_SHARED, file)),
  windows: outcome(() => { for (const w of m.windows(file, { size: 4096 })) return new TextDecoder().decode(w); return ""; }),
  "file: URL": outcome(() => m.open(new URL("file://" + file))),
  create: outcome(() => m.open(created, { mode: "rw", size: 4096 })),
  "node API create": outcome(() => m.default(4096, m.PROT_READ | m.PROT_WRITE, m.MAP_SHARED, created)),
}));
`;

/** Runs EVERY_WAY for `file` (and `created`, a path that does not exist) with `flags`. */
function everyWay(scripts: string, flags: string[], file: string, created: string) {
  const source = EVERY_WAY.replace(
    'process.argv[2] ?? "[]"',
    JSON.stringify(JSON.stringify([file, created])),
  );
  const result = node(scripts, ["--allow-ffi", "--allow-addons", ...flags], source);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, string>;
}

test("Node --permission: without --allow-fs-read on a file, no way of mapping it reads it", () => {
  withFolders((scripts, data) => {
    const file = path.join(data, "secret");
    const created = path.join(data, "new");
    fs.writeFileSync(file, "secret");
    const outcomes = everyWay(scripts, [], file, created);
    for (const [way, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome, "error ERR_ACCESS_DENIED", way);
    }
    assert.equal(fs.readFileSync(file, "utf8"), "secret", "untouched");
    assert.equal(fs.existsSync(created), false, "nothing created");
  });
});

test("Node --permission: --allow-fs-read maps read-only; writing needs --allow-fs-write", () => {
  withFolders((scripts, data) => {
    const file = path.join(data, "readable");
    const created = path.join(data, "new");
    fs.writeFileSync(file, "readable");
    const outcomes = everyWay(scripts, [`--allow-fs-read=${data}`], file, created);
    assert.deepEqual(outcomes, {
      open: "readable",
      "open rw": "error ERR_ACCESS_DENIED",
      "open copy": "readable",
      "node API read": "readable",
      "node API write": "error ERR_ACCESS_DENIED",
      windows: "readable",
      "file: URL": "readable",
      create: "error ERR_ACCESS_DENIED",
      "node API create": "error ERR_ACCESS_DENIED",
    });
    assert.equal(fs.readFileSync(file, "utf8"), "readable", "untouched");
    assert.equal(fs.existsSync(created), false, "nothing created");
  });
});

test("Node --permission: with --allow-fs-write too, every way works", () => {
  withFolders((scripts, data) => {
    const file = path.join(data, "writable");
    const created = path.join(data, "new");
    fs.writeFileSync(file, "writable");
    const flags = [`--allow-fs-read=${data}`, `--allow-fs-write=${data}`];
    const outcomes = everyWay(scripts, flags, file, created);
    assert.equal(outcomes["open rw"], "written");
    assert.equal(outcomes.create.length, 4096);
    assert.equal(fs.readFileSync(file, "utf8"), "iritable");
    assert.equal(fs.statSync(created).size, 4096);
  });
});

test("Node --permission: a path with .. out of the allowed folder is refused", () => {
  withFolders((scripts, data) => {
    const inside = path.join(data, "inside");
    fs.mkdirSync(inside);
    const outside = path.join(data, "outside.txt");
    fs.writeFileSync(outside, "outside");
    const tricky = `${inside}/../outside.txt`; // as text: path.join would resolve it
    const outcomes = everyWay(
      scripts,
      [`--allow-fs-read=${inside}`, `--allow-fs-write=${inside}`],
      tricky,
      `${inside}/../created`,
    );
    for (const [way, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome, "error ERR_ACCESS_DENIED", way);
    }
    assert.equal(fs.readFileSync(outside, "utf8"), "outside");
    assert.equal(fs.existsSync(path.join(data, "created")), false);
  });
});

test("Node --permission: a symlink leads where Node's own fs.readFileSync leads", () => {
  // Node's permission model checks the path given and follows symlinks (its documented
  // limit); the library opens files with node:fs, so it reaches exactly what Node's own file
  // operations reach, no more.
  withFolders((scripts, data) => {
    const allowed = path.join(data, "allowed");
    fs.mkdirSync(allowed);
    const target = path.join(data, "target.txt");
    fs.writeFileSync(target, "through the link");
    const link = path.join(allowed, "link");
    fs.symlinkSync(target, link);
    const source = `
import * as fs from "node:fs";
const mapped = (() => { try { return new TextDecoder().decode(m.open(${
      JSON.stringify(link)
    })); } catch (e) { return String((e as { code?: string }).code); } })();
const read = (() => { try { return fs.readFileSync(${
      JSON.stringify(link)
    }, "utf8"); } catch (e) { return String((e as { code?: string }).code); } })();
console.log(JSON.stringify({ mapped, read }));
`;
    const result = node(
      scripts,
      ["--allow-ffi", "--allow-addons", `--allow-fs-read=${allowed}`],
      source,
    );
    assert.equal(result.status, 0, result.stderr);
    const { mapped, read } = JSON.parse(result.stdout);
    assert.equal(mapped, read);
  });
});

test("Node --permission: without --allow-ffi the import says that --allow-ffi is missing", () => {
  withFolders((scripts) => {
    const result = node(scripts, [], "");
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /needs FFI access: run Node with --allow-ffi and --allow-addons/);
  });
});

test("Node --permission: without --allow-addons the import says that it is missing", () => {
  withFolders((scripts) => {
    const result = node(scripts, ["--allow-ffi"], "");
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /needs --allow-addons/);
  });
});

test("Node without node:ffi (--no-experimental-ffi) says what it needs", () => {
  withFolders((scripts) => {
    const script = path.join(scripts, "main.ts");
    fs.writeFileSync(script, `import * as m from ${JSON.stringify(`${root}/mod.ts`)};\nvoid m;\n`);
    const result = run(binary(runtimes.node), ["--no-experimental-ffi", script]);
    assert.notEqual(result.status, 0);
    assert.match(
      result.stderr,
      /has no node:ffi: use Node 26\.1 or later, without --no-experimental-ffi/,
    );
  });
});
