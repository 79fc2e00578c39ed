/**
 * `deno task dist`: builds the packages into `dist/` (see the layout in README's "Packages").
 *
 * 1. The prebuilt native libraries, one npm package each (`.ci/dist_binaries.py`).
 * 2. The JavaScript package `@mmap/mmap`: `tsc` turns mod.ts, lib/ and bindings/ into
 *    JavaScript and `.d.ts` files (`.ci/tsconfig.dist.json`), beside a package.json that lists
 *    every platform package as an optional dependency.
 * 3. `npm pack` of each into `dist/tarballs/`.
 * 4. A dry run of the JSR publish: no warning, and only the files that run.
 *
 * `--test` then installs them from a local registry in fresh projects (`.ci/registry_test.sh`);
 * on a host other than Linux x86-64 it skips everything with a line that says so.
 * `--skip-binaries` reuses the platform packages already in `dist/npm/` (for work on the
 * JavaScript side). Run from anywhere; everything is relative to the repository.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { platformPackage, prebuiltPlatforms } from "../bindings/native.ts";

const root = path.resolve(decodeURIComponent(new URL("..", import.meta.url).pathname));
const dist = path.join(root, "dist");
const npmDir = path.join(dist, "npm");
const packageDir = path.join(npmDir, "mmap");

/** The platform packages the loader looks up; `.ci/dist_binaries.py` builds each one. */
const PLATFORM_PACKAGES = prebuiltPlatforms.map((platform) => {
  const [os = "", arch = ""] = platform.split("-");
  return platformPackage(os, arch);
});

/**
 * Runs a command, echoing it; throws if it fails. Its output is shown as it comes with `shown`,
 * else only if it fails (stderr always).
 */
function run(command: string, args: string[], { cwd = root, shown = false } = {}): void {
  console.log(`dist: ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    stdio: shown ? "inherit" : ["ignore", "pipe", "inherit"],
  });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    if (!shown) process.stdout.write(result.stdout);
    throw new Error(`dist: ${command} failed with status ${result.status}`);
  }
}

/** The version every package gets: deno.json's. */
function version(): string {
  const config = JSON.parse(fs.readFileSync(path.join(root, "deno.json"), "utf8"));
  if (typeof config.version !== "string") throw new Error("dist: deno.json has no version");
  return config.version;
}

/** The `.d.ts` files keep the source's `.ts` specifiers; they name `.js` files in the package. */
function rewriteDeclarations(folder: string): void {
  for (const entry of fs.readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".d.ts")) continue;
    const file = path.join(entry.parentPath, entry.name);
    const text = fs.readFileSync(file, "utf8")
      .replace(/(from\s+["']\.{1,2}\/[^"']+)\.ts(["'])/g, "$1.js$2")
      .replace(/(import\(["']\.{1,2}\/[^"']+)\.ts(["']\))/g, "$1.js$2");
    fs.writeFileSync(file, text);
  }
}

/** The JavaScript package's manifest. */
function manifest(version: string): Record<string, unknown> {
  return {
    name: "@mmap/mmap",
    version,
    description: "Memory-mapped files and POSIX shared memory for Deno, Bun and Node: a real " +
      "Uint8Array (or, through the node mmap API, a Buffer) over the mapped pages, no copies.",
    license: "MIT",
    keywords: ["mmap", "memory-mapped", "shared-memory", "shm", "ffi", "deno", "bun", "node"],
    type: "module",
    main: "./mod.js",
    types: "./mod.d.ts",
    exports: {
      ".": { types: "./mod.d.ts", default: "./mod.js" },
      "./package.json": "./package.json",
    },
    files: ["mod.js", "mod.d.ts", "lib/", "bindings/", "LICENSE", "README.md", "CHANGELOG.md"],
    engines: { node: ">=26.1.0" },
    optionalDependencies: Object.fromEntries(
      PLATFORM_PACKAGES.map((name) => [name, version]),
    ),
  };
}

/** Builds dist/npm/mmap from the TypeScript source. */
function buildJavaScript(version: string): void {
  fs.rmSync(packageDir, { recursive: true, force: true });
  run(path.join(root, "node_modules", ".bin", "tsc"), ["-p", ".ci/tsconfig.dist.json"]);
  rewriteDeclarations(packageDir);
  for (const file of ["LICENSE", "README.md", "CHANGELOG.md"]) {
    fs.copyFileSync(path.join(root, file), path.join(packageDir, file));
  }
  fs.writeFileSync(
    path.join(packageDir, "package.json"),
    JSON.stringify(manifest(version), null, 2) + "\n",
  );
}

/** Packs every package folder into dist/tarballs/. */
function pack(): void {
  const tarballs = path.join(dist, "tarballs");
  fs.rmSync(tarballs, { recursive: true, force: true });
  fs.mkdirSync(tarballs, { recursive: true });
  // dist/npm/mmap, and dist/npm/<platform> (linux-x64-gnu) for each @mmap/mmap-<platform>.
  const platforms = PLATFORM_PACKAGES.map((name) => name.slice("@mmap/mmap-".length));
  for (const folder of ["mmap", ...platforms]) {
    const source = path.join(npmDir, folder);
    if (!fs.existsSync(path.join(source, "package.json"))) {
      throw new Error(`dist: ${source} is missing; build the binaries first`);
    }
    run("npm", ["pack", "--silent", "--pack-destination", tarballs], { cwd: source });
  }
  for (const file of fs.readdirSync(tarballs).sort()) {
    const size = fs.statSync(path.join(tarballs, file)).size;
    console.log(`dist: ${file} (${(size / 1024).toFixed(0)} KiB)`);
  }
}

/** JSR's dry run must pass without a warning and publish only what runs (and its documents). */
function checkJsr(): void {
  // deno publish reports on stderr.
  console.log("dist: deno publish --dry-run --allow-dirty");
  const result = spawnSync(Deno.execPath(), ["publish", "--dry-run", "--allow-dirty"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  const output = result.stdout + result.stderr;
  if (result.status !== 0) {
    console.log(output);
    throw new Error(`dist: JSR's dry run failed with status ${result.status}`);
  }
  const files = [...output.matchAll(/file:\/\/\S+/g)]
    .map((match) => path.relative(root, decodeURIComponent(new URL(match[0]).pathname)));
  const unexpected = files.filter((file) =>
    !/^(mod\.ts|(lib|bindings)\/[a-z_]+\.ts|README\.md|LICENSE|CHANGELOG\.md|deno\.json)$/.test(
      file,
    )
  );
  if (/warning/i.test(output) || unexpected.length > 0 || !files.includes("mod.ts")) {
    console.log(output);
    throw new Error(`dist: JSR's dry run warned or would publish ${unexpected.join(", ")}`);
  }
  console.log(`dist: JSR dry run clean, ${files.length} files`);
}

const testing = process.argv.includes("--test");
if (process.platform !== "linux" || process.arch !== "x64") {
  // The binaries are cross-built and checked from Linux x86-64 (CI's machine), arm64 under qemu.
  const why = `builds and checks the packages on Linux x86-64 only, not ${process.platform}-` +
    process.arch;
  if (!testing) throw new Error(`dist: ${why}`);
  console.log(`dist: skipped: ${why}`);
  process.exit(0);
}
const started = performance.now();
const release = version();
if (!process.argv.includes("--skip-binaries")) {
  run("python3", [path.join(root, ".ci", "dist_binaries.py")], { shown: true });
}
buildJavaScript(release);
pack();
checkJsr();
console.log(
  `dist: @mmap/mmap ${release} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
if (testing) run("bash", [path.join(root, ".ci", "registry_test.sh")], { shown: true });
