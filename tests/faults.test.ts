// Faults: a writer killed with SIGKILL, a file deleted or truncated under a live mapping, no
// permission, a read-only file or file system, an impossible size, the permission bits of what
// the library creates, and the descriptors it opens.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import mmap, { anonymous, MmapError, open, shm } from "../mod.ts";
import { native } from "../bindings/load.ts";
import { locateLibrary } from "../bindings/native.ts";
import { written } from "./fixtures/faults.ts";
import {
  fdsOf,
  mappingsOf,
  remove,
  root,
  run,
  runFixture,
  runtime,
  shmName,
  startFixture,
  tempFile,
  tempPath,
  test,
  throwsKind,
} from "./harness.ts";
import { binary, type Runtime, runtimes as table } from "./support/runtimes.ts";
import { startWorker } from "./support/workers.ts";

const P = mmap.PAGESIZE;
const RW = mmap.PROT_READ | mmap.PROT_WRITE;
const runtimes = Object.values(table);

for (const which of runtimes) {
  test(`data synced by a ${which.title} process is in the file after it is killed with SIGKILL`, async () => {
    const file = tempPath("killed");
    try {
      const child = startFixture(which, "faults.ts", ["writer", file]);
      await child.line((line) => line === "synced");
      child.kill("SIGKILL");
      const result = await child.done;
      assert.equal(result.signal, "SIGKILL");
      const bytes = fs.readFileSync(file);
      assert.equal(bytes.length, 3 * P);
      for (let i = 0; i < 2 * P; i++) {
        if (bytes[i] !== written(i)) assert.fail(`byte ${i}: ${bytes[i]} !== ${written(i)}`);
      }
    } finally {
      remove(file);
    }
  });
}

test("a file deleted while mapped stays readable (and writable) through the mapping", () => {
  const file = tempFile("deleted", new Uint8Array(3 * P).fill(42));
  const reader = open(file);
  const writer = mmap(0, RW, mmap.MAP_SHARED, file);
  try {
    remove(file);
    assert.equal(fs.existsSync(file), false);
    assert.ok(reader.every((byte) => byte === 42));
    writer[P] = 7; // the inode lives on while mapped
    assert.equal(reader[P], 7);
    assert.equal(writer.sync(), true);
    const maps = fs.readFileSync("/proc/self/maps", "utf8");
    assert.ok(maps.includes(`${file} (deleted)`));
  } finally {
    reader.unmap();
    writer.unmap();
  }
  assert.ok(!fs.readFileSync("/proc/self/maps", "utf8").includes(file));
});

for (const which of runtimes) {
  test(`a ${which.title} process touching pages a truncation took dies of SIGBUS; this one lives`, () => {
    const file = tempFile("truncated", new Uint8Array(3 * P).fill(97));
    const mine = open(file, { length: P }); // only page 0, which survives the truncation
    try {
      const result = runFixture(which, "faults.ts", ["truncate", file]);
      assert.equal(result.signal, "SIGBUS", `${which.name}: ${result.status} ${result.stderr}`);
      assert.match(result.stdout, /^page 0 reads 97$/m);
      assert.doesNotMatch(result.stdout, /still alive/);
      assert.equal(fs.statSync(file).size, 100);
      assert.equal(mine[0], 97, "this process reads what is left");
    } finally {
      mine.unmap();
      remove(file);
    }
  });
}

test("resize() after the file was replaced under its name is refused, not a SIGBUS", () => {
  const file = tempFile("replaced", new Uint8Array(P).fill(1));
  const mapping = open(file, { mode: "copy" });
  try {
    const newer = tempFile("replacement", new Uint8Array(16 * P).fill(2));
    fs.renameSync(newer, file); // an editor's save
    const error = throwsKind(() => mapping.resize(16 * P), MmapError);
    assert.equal(error.code, "ERR_MMAP_SOURCE_REPLACED");
    assert.equal(mapping[0], 1, "the mapping keeps the old file");
    assert.equal(fs.statSync(file).size, 16 * P);
  } finally {
    mapping.unmap();
    remove(file);
  }
});

test("an shm object unlinked and made again: resize() of the old mapping is refused", () => {
  const name = shmName("replaced");
  const old = shm.open(name, P);
  try {
    shm.unlink(name);
    using newer = shm.open(name, 16 * P);
    assert.equal(newer.length, 16 * P);
    const error = throwsKind(() => old.resize(16 * P), MmapError);
    assert.equal(error.code, "ERR_MMAP_SOURCE_REPLACED");
  } finally {
    old.unmap();
    shm.unlink(name);
  }
});

test("a device maps by descriptor only, and such a mapping does not resize (no SIGBUS)", () => {
  // The kernel backs shared /dev/zero pages with an object of the mapped length: pages past it
  // raise SIGBUS, and a device's size cannot be read. By name a device is refused; through a
  // descriptor it maps, and a descriptor's mapping has no name to grow it by.
  for (const mode of ["rw", "copy"] as const) {
    assert.equal(
      throwsKind(() => open("/dev/zero", { mode, length: 4 * P }), MmapError).code,
      "ERR_MMAP_NOT_A_FILE",
    );
  }
  const fd = fs.openSync("/dev/zero", "r+");
  try {
    const mapping = mmap(4 * P, RW, mmap.MAP_SHARED, fd);
    assert.equal(
      throwsKind(() => mapping.resize(16 * P), TypeError).message.includes("descriptor"),
      true,
    );
    mapping[0] = 1;
    assert.equal(mapping.unmap(), true);
  } finally {
    fs.closeSync(fd);
  }
});

// Found by the fuzzer: resize() of an empty "rw" mapping after protect("r") asked the native
// side to grow a file it had not opened for writing, and failed with ERR_MMAP_INVALID_ARGUMENT.
test('an empty "rw" mapping resizes after protect("r"), keeping the protection', () => {
  const file = tempFile("empty-protected", "");
  try {
    const empty = open(file, { mode: "rw" });
    assert.equal(empty.length, 0);
    empty.protect("r");
    const grown = empty.resize(5349);
    assert.equal(grown.length, 5349);
    assert.equal(grown.protection, mmap.PROT_READ);
    assert.equal(grown[5348], 0);
    assert.equal(fs.statSync(file).size, 5349);
    grown.unmap();
  } finally {
    remove(file);
  }
});

/** The library's outcomes in a child process for `file`, and for creating `created`. */
type Outcomes = Record<string, string>;

const isRoot = process.getuid?.() === 0;

/** Whether `nobody` (through setpriv) can run `binary`. */
function nobodyCanRun(binary: string): boolean {
  const drop = ["--reuid=65534", "--regid=65534", "--clear-groups"];
  return spawnSync("setpriv", [...drop, binary, "--version"]).status === 0;
}

/**
 * A copy of what a child running as `nobody` needs, readable by it wherever this checkout lives
 * (under a 0700 directory, say): the module, the fixture and the library, in `home`; and the
 * runtime itself if `nobody` cannot run it where it is. Returns the fixture and the runtime.
 */
function nobodysCopy(which: Runtime, home: string): { script: string; binary: string } {
  const tree = path.join(home, "mmap");
  const parts = ["mod.ts", "package.json", "lib", "bindings", "tests/fixtures", "tests/support"];
  for (const part of parts) {
    fs.cpSync(path.join(root, part), path.join(tree, part), { recursive: true });
  }
  const library = locateLibrary(process.env.MMAP_FFI_LIB).path;
  fs.mkdirSync(path.join(tree, "target", "release"), { recursive: true });
  fs.copyFileSync(library, path.join(tree, "target", "release", path.basename(library)));
  let command = binary(which);
  if (!nobodyCanRun(command)) {
    const found = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
    const copy = path.join(home, which.name);
    fs.copyFileSync(fs.realpathSync(found.stdout.trim() || command), copy);
    command = copy;
  }
  spawnSync("chmod", ["-R", "a+rX", home]);
  return { script: path.join(tree, "tests", "fixtures", "faults.ts"), binary: command };
}

/**
 * Runs the `attempts` fixture as a user without access to this user's files: "nobody" through
 * setpriv when the tests run as root (root ignores permission bits), else as this user. The
 * child runs in a directory of its own, from a copy it can read.
 */
function attemptsWithoutAccess(which: Runtime, file: string, created: string): Outcomes {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-test-nobody-"));
  fs.chmodSync(home, 0o777);
  try {
    const { script, binary: runtimeBinary } = isRoot
      ? nobodysCopy(which, home)
      : { script: path.join(root, "tests", "fixtures", "faults.ts"), binary: binary(which) };
    const command = [
      runtimeBinary,
      ...which.scriptArgs(script, ["attempts", file, created], { write: true }),
    ];
    const env = {
      HOME: home,
      DENO_DIR: path.join(home, "deno"),
      BUN_INSTALL_CACHE_DIR: home,
      MMAP_FFI_LIB: "",
    };
    const result = isRoot
      ? run("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", ...command], env, home)
      : run(command[0], command.slice(1), env, home);
    assert.equal(result.status, 0, result.stderr);
    return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

function setprivWorks(): boolean {
  if (!isRoot) return true;
  return spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
    .status === 0;
}

for (const which of runtimes) {
  test(`${which.title}: no permission and read-only files give EACCES errors, not crashes`, () => {
    if (!setprivWorks()) {
      console.log("skipped: running as root without setpriv to drop privileges");
      return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-test-perm-"));
    fs.chmodSync(dir, 0o755);
    const secret = path.join(dir, "secret");
    const readOnly = path.join(dir, "read-only");
    fs.writeFileSync(secret, new Uint8Array(P).fill(1));
    fs.writeFileSync(readOnly, new Uint8Array(P).fill(2));
    // Set, not created with: a mode given at creation loses what the umask takes away.
    fs.chmodSync(secret, 0o600);
    fs.chmodSync(readOnly, 0o444);
    try {
      const denied = attemptsWithoutAccess(which, secret, path.join(dir, "new"));
      assert.deepEqual(denied, {
        "open r": "EACCES",
        "open rw": "EACCES",
        "open copy": "EACCES",
        "mmap PROT_READ": "EACCES",
        "mmap PROT_WRITE": "EACCES",
        "create": "EACCES", // the directory is not theirs
        "anonymous": "mapped",
      });
      const readOnlyOutcomes = attemptsWithoutAccess(which, readOnly, path.join(dir, "new"));
      assert.equal(readOnlyOutcomes["open r"], "mapped");
      assert.equal(readOnlyOutcomes["open copy"], "mapped");
      assert.equal(readOnlyOutcomes["mmap PROT_READ"], "mapped");
      assert.equal(readOnlyOutcomes["open rw"], "EACCES");
      assert.equal(readOnlyOutcomes["mmap PROT_WRITE"], "EACCES");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("a descriptor opened read-only cannot be mapped shared and writable, even by root", () => {
  const file = tempFile("rdonly", new Uint8Array(P));
  const fd = fs.openSync(file, "r");
  try {
    const error = throwsKind(() => mmap(0, RW, mmap.MAP_SHARED, fd), MmapError);
    assert.equal(error.code, "EACCES");
    assert.equal(error.syscall, "mmap");
    // open()'s "r" maps private pages of its own, so even these may become writable; the
    // file never changes.
    using reader = open(file);
    assert.equal(reader.protect("rw"), true);
  } finally {
    fs.closeSync(fd);
    remove(file);
  }
});

function unshareWorks(): boolean {
  return spawnSync("unshare", ["--user", "--map-root-user", "--mount", "true"]).status === 0;
}

for (const which of runtimes) {
  test(`${which.title}: a read-only file system gives EROFS for writable mappings`, () => {
    // A tmpfs remounted read-only in a private mount namespace (unshare: no root needed where
    // unprivileged user namespaces are allowed).
    if (!unshareWorks()) {
      console.log("skipped: unshare --user --mount is not allowed here");
      return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-test-rofs-"));
    try {
      const script = path.join(root, "tests", "fixtures", "faults.ts");
      const command = [
        binary(which),
        ...which.scriptArgs(script, ["attempts", `${dir}/file`, `${dir}/new`], { write: true }),
      ].map((word) => `'${word}'`).join(" ");
      const shell = `mount -t tmpfs none '${dir}' && head -c ${P} /dev/zero > '${dir}/file' && ` +
        `mount -o remount,ro '${dir}' && exec ${command}`;
      const result = run("unshare", ["--user", "--map-root-user", "--mount", "sh", "-c", shell]);
      assert.equal(result.status, 0, result.stderr);
      const outcomes = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
      assert.deepEqual(outcomes, {
        "open r": "mapped",
        "open rw": "EROFS",
        "open copy": "mapped",
        "mmap PROT_READ": "mapped",
        "mmap PROT_WRITE": "EROFS",
        "create": "EROFS",
        "anonymous": "mapped",
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("an impossible size is an error, not a crash", () => {
  const huge = 2 ** 46; // 64 TiB: more than memory and swap, so the kernel refuses
  if (native.maxBufferLength < huge) {
    // Bun: no ArrayBuffer over 4 GiB, refused before the system call.
    throwsKind(() => anonymous(huge), RangeError);
    throwsKind(() => mmap(huge, RW, mmap.MAP_PRIVATE | mmap.MAP_ANON, -1), RangeError);
  } else {
    const error = throwsKind(() => anonymous(huge), MmapError);
    assert.equal(error.code, "ENOMEM");
    assert.equal(error.syscall, "mmap");
    const node = throwsKind(() => mmap(huge, RW, mmap.MAP_PRIVATE | mmap.MAP_ANON, -1), MmapError);
    assert.equal(node.code, "ENOMEM");
  }
  const file = tempPath("huge");
  try {
    // A file of 2^53 - 1 bytes is past what the file system allows.
    const error = throwsKind(
      () => open(file, { mode: "rw", size: Number.MAX_SAFE_INTEGER, length: P }),
      MmapError,
    );
    assert.equal(error.code, "EFBIG");
  } finally {
    remove(file);
  }
  using still = anonymous(P);
  still[0] = 1; // and the process goes on
  assert.equal(still[0], 1);
});

test("shared-memory objects are created 0600 unless asked; files 0666 less the umask", () => {
  const names = [shmName("mode-default"), shmName("mode-node"), shmName("mode-asked")];
  const file = tempPath("mode-node");
  const other = tempPath("mode-open");
  const umask = process.umask();
  try {
    shm.open(names[0], P).unmap();
    mmap.map_shm(P, RW, mmap.MAP_SHARED, names[1]).unmap();
    shm.open(names[2], P, { mode: 0o640 }).unmap();
    const mode = (name: string) => fs.statSync(`/dev/shm${name}`).mode & 0o777;
    assert.equal(mode(names[0]), 0o600);
    assert.equal(mode(names[1]), 0o600);
    assert.equal(mode(names[2]), 0o640 & ~umask);
    mmap(P, RW, mmap.MAP_SHARED, file).unmap();
    open(other, { mode: "rw", size: P }).unmap();
    assert.equal(fs.statSync(file).mode & 0o777, 0o666 & ~umask);
    assert.equal(fs.statSync(other).mode & 0o777, 0o666 & ~umask);
  } finally {
    for (const name of names) if (fs.existsSync(`/dev/shm${name}`)) shm.unlink(name);
    remove(file);
    remove(other);
  }
});

test("the library's descriptors are closed once mapped and never reach a child process", async () => {
  const file = tempFile("cloexec", new Uint8Array(P));
  const name = shmName("cloexec");
  const held = [
    open(file),
    open(file, { mode: "rw" }),
    mmap(0, RW, mmap.MAP_SHARED, file),
    shm.open(name, P),
    mmap.map_shm(P, RW, mmap.MAP_SHARED, name),
  ];
  assert.equal(fdsOf(file), 0, "the descriptors were closed once mapped");
  assert.equal(fdsOf(`/dev/shm${name}`), 0);
  // A Worker maps and unmaps by name in a loop while this thread starts children, so a
  // descriptor without O_CLOEXEC would sooner or later be inherited by one of them.
  const source = `
import { open, shm } from ${JSON.stringify(`${root}/mod.ts`)};
import { workerScope } from ${JSON.stringify(`${root}/tests/support/workers.ts`)};
const scope = workerScope();
let stop = false;
scope.onMessage(() => { stop = true; });
scope.postMessage("started");
let cycles = 0;
while (!stop) {
  for (let i = 0; i < 200; i++) {
    open(${JSON.stringify(file)}, { mode: "rw" }).unmap();
    shm.open(${JSON.stringify(name)}, 0).unmap();
    cycles++;
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
}
scope.postMessage(cycles);
`;
  const script = path.join(os.tmpdir(), `mmap-test-cloexec-${process.pid}.ts`);
  fs.writeFileSync(script, source);
  const worker = startWorker(new URL(`file://${script}`));
  try {
    await worker.next(); // "started"
    let inherited = 0;
    for (let i = 0; i < 40; i++) {
      const child = spawnSync("sh", ["-c", "ls -l /proc/self/fd/ 2>/dev/null"], {
        encoding: "utf8",
      });
      if (child.stdout.includes(file) || child.stdout.includes(`/dev/shm${name}`)) inherited++;
    }
    const done = worker.next();
    worker.postMessage("stop");
    const cycles = await done;
    // Checked while the Worker is idle: while it maps, its descriptor is briefly open.
    assert.equal(fdsOf(file), 0, "no descriptor of the file is left open");
    assert.equal(fdsOf(`/dev/shm${name}`), 0, "nor of the shared-memory object");
    console.log(`${runtime.name}: 40 children started during ${cycles} map cycles in a Worker`);
    assert.equal(inherited, 0, "a child inherited one of the library's descriptors");
    assert.ok((cycles as number) > 0);
    assert.equal(mappingsOf(file), 3);
  } finally {
    worker.terminate();
    held.forEach((mapping) => mapping.unmap());
    fs.rmSync(script, { force: true });
    shm.unlink(name);
    remove(file);
  }
});
