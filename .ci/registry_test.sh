#!/usr/bin/env bash
# End-to-end install test (issue 13): publish what `deno task dist` built to a local npm registry
# (verdaccio on 127.0.0.1), then install and use @mmap/mmap as a new user would, in fresh temp
# folders with no clone nearby, no cargo on PATH and no MMAP_FFI_LIB:
#   node  npm init + npm install, an ES module quickstart, a CommonJS require(), tsc --noEmit
#   bun   bun init + bun add, the quickstart (and require()), tsc --noEmit
#   deno  deno add npm:@mmap/mmap, the quickstart with the least permissions, deno check
# Each check prints one PASS/FAIL line; the script exits non-zero if any fails. The registry and
# its storage are removed at the end, also on failure or Ctrl-C.
#
# Bash, not a TypeScript file: it drives three runtimes, npm and a server, and must not depend on
# the runtimes it tests (a broken Node or Deno must show up as a FAIL line, not a crashed harness).
#
# Usage: bash .ci/registry_test.sh            (after `deno task dist`)
# Env:   MMAP_DIST=<dir>          test another dist/ (default: <repo>/dist)
#        MMAP_REGISTRY_KEEP=1     keep the temp folder (projects and logs; never the storage)
#        MMAP_REGISTRY_LANES="node bun deno"   run only some of the lanes
# Runtimes are the `node`, `bun`, `deno` and `npm` on PATH (CI: the pinned ones, through npx).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIST=${MMAP_DIST:-$ROOT/dist}
TOOLS=$ROOT/.tools
LANES=${MMAP_REGISTRY_LANES:-node bun deno}

VERDACCIO_VERSION=6.8.0
NODE_FETCH_OVERRIDE=2.7.0
# What a fresh project gets today; pinned so that CI changes only when this file does.
TYPESCRIPT_VERSION=7.0.2
TYPESCRIPT_OLD_VERSION=5.9.3 # still what most projects use: the .d.ts must suit it too
TYPES_NODE_VERSION=26.6.7
STEP_TIMEOUT=${MMAP_REGISTRY_STEP_TIMEOUT:-300}

t0=$(date +%s%N)
elapsed() { # seconds since $1 (ns), one decimal
  local ns=$(($(date +%s%N) - $1))
  printf '%d.%ds' $((ns / 1000000000)) $((ns / 100000000 % 10))
}
say() { printf 'registry: %s\n' "$*"; }
die() {
  printf 'registry: FAIL %s\n' "$*" >&2
  exit 1
}

# npm exec/run leave npm_config_* behind (local_prefix, registry, ...): they would override the
# projects' .npmrc and send installs elsewhere. Nothing from the caller may steer the test.
for var in $(compgen -e); do
  case $var in
  npm_* | NPM_* | BUN_* | DENO_* | NODE_OPTIONS | NODE_PATH | NODE | INIT_CWD | MMAP_FFI_LIB) unset "$var" ;;
  esac
done

for tool in node npm bun deno curl timeout flock; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done
[[ -f $DIST/npm/mmap/package.json ]] || die "no $DIST/npm/mmap/package.json: run \`deno task dist\` first"

# --- the temp folder: registry storage, projects, logs ------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mmap-registry.XXXXXX")
VERDACCIO_PID=
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # Stop everything this script started (the lanes, their tools, verdaccio), by process id.
  kill_tree() {
    local child
    for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
    [[ $1 == "$$" ]] || kill "$1" 2>/dev/null || true
  }
  kill_tree $$
  wait 2>/dev/null || true
  ((rc != 130 && rc != 143)) || say "interrupted: registry stopped"
  if [[ ${MMAP_REGISTRY_KEEP:-} == 1 ]]; then
    rm -rf "$WORK/registry/storage"
    say "kept $WORK (registry storage removed)"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

case $WORK/ in "$ROOT"/*) die "the temp folder $WORK is inside the clone; set TMPDIR elsewhere" ;; esac
# "No clone nearby": nothing above the projects that Node, Bun or Deno would pick up.
dir=$WORK
while [[ $dir != / ]]; do
  dir=$(dirname "$dir")
  for name in package.json deno.json deno.jsonc node_modules bunfig.toml .npmrc mod.ts; do
    [[ ! -e $dir/$name ]] || die "$dir/$name is above the temp folder $WORK; set TMPDIR elsewhere"
  done
done

# The projects' PATH: the runtimes under test and the system, no cargo.
mkdir -p "$WORK/bin" "$WORK/out" "$WORK/registry/storage" "$WORK/tmp"
for tool in node npm npx bun deno; do
  ln -s "$(command -v "$tool")" "$WORK/bin/$tool"
done
CLEAN_PATH=$WORK/bin:/usr/local/bin:/usr/bin:/bin
if cargo=$(PATH=$CLEAN_PATH command -v cargo); then die "cargo is on the projects' PATH ($cargo)"; fi

say "node $(node --version), bun $(bun --version), $(deno --version | head -1), npm $(npm --version)"
say "testing $DIST"

# --- 1. verdaccio, installed once under .tools/ ------------------------------------------------
VERDACCIO_DIR=$TOOLS/verdaccio
VERDACCIO_MANIFEST='{
  "name": "mmap-tools-verdaccio",
  "private": true,
  "description": "The local npm registry of .ci/registry_test.sh",
  "dependencies": { "verdaccio": "'$VERDACCIO_VERSION'" },
  "overrides": { "node-fetch": "'$NODE_FETCH_OVERRIDE'" }
}'
t=$(date +%s%N)
mkdir -p "$VERDACCIO_DIR"
(
  flock 9
  if [[ $(cat "$VERDACCIO_DIR/package.json" 2>/dev/null) != "$VERDACCIO_MANIFEST" ]] ||
    ! grep -qs "\"version\": \"$VERDACCIO_VERSION\"" "$VERDACCIO_DIR/node_modules/verdaccio/package.json"; then
    say "installing verdaccio $VERDACCIO_VERSION into $VERDACCIO_DIR"
    printf '%s\n' "$VERDACCIO_MANIFEST" >"$VERDACCIO_DIR/package.json"
    (cd "$VERDACCIO_DIR" && npm install --no-audit --no-fund --prefer-offline --loglevel=error \
      --registry=https://registry.npmjs.org/) >"$WORK/out/verdaccio-install.log" 2>&1 ||
      { cat "$WORK/out/verdaccio-install.log" >&2; exit 1; }
  fi
) 9>"$VERDACCIO_DIR/.lock" || die "npm install of verdaccio $VERDACCIO_VERSION"
say "verdaccio $VERDACCIO_VERSION ready ($(elapsed "$t"))"

# --- 2. start it: anonymous publish of @mmap/*, everything else proxied to npmjs ----------------
# A steady port when free keeps the npm and bun cache entries of proxied packages (typescript,
# @types/node, bun-types) the same from run to run; any free port otherwise.
PORT=$(node -e '
  const net = require("node:net");
  const ports = [48730, 48731, 48732, 48733, 48734, 0];
  const tryPort = (i) => {
    const server = net.createServer();
    server.once("error", () => tryPort(i + 1));
    server.listen(ports[i], "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => console.log(port));
    });
  };
  tryPort(0);')
REGISTRY=http://127.0.0.1:$PORT/
cat >"$WORK/registry/config.yaml" <<EOF
storage: $WORK/registry/storage
auth:
  htpasswd:
    file: $WORK/registry/htpasswd
    max_users: -1
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 60s
    maxage: 30m
packages:
  '@mmap/*':
    access: \$all
    publish: \$all
    unpublish: \$all
  '**':
    access: \$all
    proxy: npmjs
web:
  enable: false
max_body_size: 200mb
log: { type: stdout, format: pretty, level: warn }
EOF
t=$(date +%s%N)
node "$VERDACCIO_DIR/node_modules/verdaccio/bin/verdaccio" --config "$WORK/registry/config.yaml" \
  --listen "127.0.0.1:$PORT" </dev/null >"$WORK/registry/verdaccio.log" 2>&1 &
VERDACCIO_PID=$!
for _ in $(seq 300); do
  curl -sf "${REGISTRY}-/ping" >/dev/null 2>&1 && break
  kill -0 "$VERDACCIO_PID" 2>/dev/null || { cat "$WORK/registry/verdaccio.log" >&2; die "verdaccio exited"; }
  sleep 0.1
done
curl -sf "${REGISTRY}-/ping" >/dev/null || { cat "$WORK/registry/verdaccio.log" >&2; die "verdaccio does not answer on $REGISTRY"; }
say "verdaccio on $REGISTRY ($(elapsed "$t"))"

# --- 3. publish dist/ ---------------------------------------------------------------------------
PASSES=0
FAILS=0
report() { # PASS|FAIL "what" [log file to show on FAIL]
  printf '%s %s\n' "$1" "$2"
  if [[ $1 == FAIL && -n ${3:-} && -s $3 ]]; then tail -n 40 "$3" | sed 's/^/    | /'; fi
}
count() { if [[ $1 == PASS ]]; then PASSES=$((PASSES + 1)); else FAILS=$((FAILS + 1)); fi; }

cat >"$WORK/registry/npmrc" <<EOF
registry=$REGISTRY
//127.0.0.1:$PORT/:_authToken=registry-test
update-notifier=false
fund=false
audit=false
EOF
t=$(date +%s%N)
# Each package of dist/npm as `npm pack` left it in dist/tarballs (what a release publishes),
# or the folder itself where its tarball is missing (a FAIL of its own).
# shellcheck disable=SC2016 # JavaScript template literals
mapfile -t packages < <(node -e '
  const fs = require("node:fs");
  const path = require("node:path");
  const dist = process.argv[1];
  for (const folder of fs.readdirSync(path.join(dist, "npm")).sort()) {
    const manifest = path.join(dist, "npm", folder, "package.json");
    if (!fs.existsSync(manifest)) continue;
    const { name, version } = JSON.parse(fs.readFileSync(manifest, "utf8"));
    const tarball = path.join(dist, "tarballs", `${name.replace("@", "").replace("/", "-")}-${version}.tgz`);
    console.log([folder, `${name}@${version}`, tarball].join("\t"));
  }' "$DIST")
published=()
problems=()
for line in "${packages[@]}"; do
  IFS=$'\t' read -r folder spec tarball <<<"$line"
  source=$tarball
  if [[ ! -f $tarball ]]; then
    problems+=("no dist/tarballs/$(basename "$tarball") for dist/npm/$folder (published the folder)")
    source=$DIST/npm/$folder
  fi
  log=$WORK/out/publish-$folder.log
  # --tag latest also lets a prerelease version through; scripts never run.
  if (cd "$WORK" && npm publish "$source" --userconfig "$WORK/registry/npmrc" --registry "$REGISTRY" \
    --tag latest --access public --ignore-scripts --provenance=false) >"$log" 2>&1; then
    published+=("$spec")
  else
    report FAIL "publish: npm publish $source" "$log"
    count FAIL
  fi
done
# Every optional dependency of @mmap/mmap must be on the registry now, at the same version.
# shellcheck disable=SC2016 # JavaScript template literals
mapfile -t -O "${#problems[@]}" problems < <(node -e '
  const [registry, manifest] = process.argv.slice(1);
  const pkg = require(manifest);
  Promise.all(Object.entries(pkg.optionalDependencies ?? {}).map(async ([name, version]) => {
    const res = await fetch(registry + name.replace("/", "%2f"));
    const doc = res.ok ? await res.json() : { versions: {} };
    if (!doc.versions[version]) console.log(`optional dependency ${name}@${version} is not published`);
  }));' "$REGISTRY" "$DIST/npm/mmap/package.json" 2>&1)
if ((${#problems[@]} == 0)); then
  report PASS "publish: ${published[*]} ($(elapsed "$t"))"
  count PASS
else
  for problem in "${problems[@]}"; do
    report FAIL "publish: $problem"
    count FAIL
  done
fi
curl -sf "${REGISTRY}@mmap%2fmmap" >/dev/null || die "nothing to install: @mmap/mmap did not publish"

# --- 4. the fresh projects ----------------------------------------------------------------------
SRC=$WORK/src
mkdir -p "$SRC"
# The quickstart: a file written and read through mappings, anonymous memory, the node API.
cat >"$SRC/quickstart.mjs" <<'EOF'
import { Buffer } from "node:buffer";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import mmap, { anonymous, open, PAGESIZE } from "@mmap/mmap";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-quickstart-"));
const file = path.join(dir, "hello.txt");
const text = "hello through a mapping";
try {
  {
    using page = open(file, { mode: "rw", size: PAGESIZE });
    page.set(new TextEncoder().encode(text + "\n"));
    page.sync();
  }
  console.log(`file: ${fs.readFileSync(file, "utf8").split("\n")[0]}`);
  const view = open(file, { length: text.length });
  console.log(`open: ${new TextDecoder().decode(view)} (${view.length} bytes)`);
  view.unmap();

  const scratch = anonymous(PAGESIZE);
  scratch.fill(7);
  console.log(`anonymous: page ${scratch.length === PAGESIZE}, filled ${scratch.every((b) => b === 7)}`);
  scratch.unmap();

  const fd = fs.openSync(file, "r");
  try {
    const buffer = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, fd);
    console.log(`mmap: Buffer ${Buffer.isBuffer(buffer)}, ${buffer.toString("utf8", 0, text.length)}`);
    buffer.unmap();
  } finally {
    fs.closeSync(fd);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
console.log("done");
EOF
QUICKSTART_OUT='file: hello through a mapping
open: hello through a mapping (23 bytes)
anonymous: page true, filled true
mmap: Buffer true, hello through a mapping
done'
# Anonymous memory only: no file, so no permission but loading the library.
cat >"$SRC/anonymous.mjs" <<'EOF'
import { anonymous, PAGESIZE } from "@mmap/mmap";

const memory = anonymous(PAGESIZE);
memory[0] = 42;
console.log(`anonymous: ${memory[0]}`);
memory.unmap();
EOF
ANONYMOUS_OUT='anonymous: 42'
# CommonJS: require() returns the node mmap package's function.
cat >"$SRC/require.cjs" <<'EOF'
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const mmap = require("@mmap/mmap");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mmap-require-"));
const file = path.join(dir, "hello.txt");
try {
  fs.writeFileSync(file, "hello from require");
  const fd = fs.openSync(file, "r");
  try {
    const buffer = mmap.map(0, mmap.PROT_READ, mmap.MAP_SHARED, fd);
    console.log(`require: ${typeof mmap}, Buffer ${Buffer.isBuffer(buffer)}, ${buffer.toString()}`);
    buffer.unmap();
  } finally {
    fs.closeSync(fd);
  }
  const { anonymous, open, shm, windows, PAGESIZE } = mmap;
  console.log(`exports: ${[anonymous, open, shm.open, windows].map((f) => typeof f)} ${PAGESIZE > 0}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
EOF
REQUIRE_OUT='require: function, Buffer true, hello from require
exports: function,function,function,function true'
# Types: the public API under strict settings (type-checked, never run).
cat >"$SRC/check.ts" <<'EOF'
import { Buffer } from "node:buffer";
import mmap, {
  anonymous,
  type Mapping,
  MmapError,
  open,
  type OpenOptions,
  PAGESIZE,
  shm,
} from "@mmap/mmap";

export function firstByte(path: string): number | undefined {
  const options: OpenOptions = { length: PAGESIZE };
  using page: Mapping = open(path, options);
  const first = page[0]; // number | undefined under noUncheckedIndexedAccess
  page.advise("sequential");
  return first;
}

export function scratch(): Uint8Array {
  const memory = anonymous(PAGESIZE, { shared: false });
  memory.fill(1);
  const copy = Uint8Array.from(memory);
  memory.unmap();
  return copy;
}

export function nodeStyle(fd: number): string {
  const buffer = mmap(0, mmap.PROT_READ, mmap.MAP_SHARED, fd);
  const asBuffer: Buffer = buffer;
  const text = asBuffer.toString("utf8");
  buffer.unmap();
  return text;
}

export function counter(name: string): number {
  using region = shm.open(name, 4096);
  const cells = new Int32Array(region.buffer, 0, 1);
  return Atomics.add(cells, 0, 1);
}

export function describe(error: unknown): string {
  return error instanceof MmapError ? `${error.code} ${error.syscall}` : String(error);
}
EOF

# The platform package npm/bun should have installed beside @mmap/mmap.
os=$(node -p process.platform)
arch=$(node -p process.arch)
PLATFORM_PACKAGE=@mmap/mmap-$os-$arch$([[ $os == linux ]] && echo -gnu)
LIBRARY=$([[ $os == darwin ]] && echo libmmap_ffi.dylib || echo libmmap_ffi.so)

# step NAME LOG CMD...: runs CMD in the lane's clean environment; its stdout and stderr go to
# LOG.out and LOG.err (and both to LOG). Returns CMD's status.
step() {
  local log=$1
  shift
  timeout --kill-after=10 "$STEP_TIMEOUT" env PATH="$CLEAN_PATH" TMPDIR="$WORK/tmp" NO_COLOR=1 "$@" \
    </dev/null >"$log.out" 2>"$log.err"
  local rc=$?
  cat "$log.out" "$log.err" >"$log"
  ((rc != 124)) || echo "(timed out after ${STEP_TIMEOUT}s)" >>"$log"
  return $rc
}
# expect NAME LOG EXPECTED: PASS when the step's stdout is EXPECTED and it wrote no stderr.
expect() {
  local name=$1 log=$2 expected=$3 rc=$4
  if ((rc == 0)) && [[ $(cat "$log.out") == "$expected" ]] && [[ ! -s $log.err ]]; then
    lane_report PASS "$name"
  else
    { echo "--- exit $rc; expected stdout:"; echo "$expected"; echo "--- got:"; cat "$log"; } >"$log.why"
    lane_report FAIL "$name" "$log.why"
  fi
}
# installed DIR: @mmap/mmap and this platform's package (with its library) in DIR/node_modules,
# and no other platform's (their os/cpu/libc fields keep them out).
installed() {
  local dir=$1 other
  [[ -f $dir/node_modules/@mmap/mmap/package.json && -f $dir/node_modules/$PLATFORM_PACKAGE/$LIBRARY ]] ||
    return 1
  for other in "$dir"/node_modules/@mmap/mmap-*; do
    [[ $other == "$dir/node_modules/$PLATFORM_PACKAGE" ]] || { echo "also installed: $other"; return 1; }
  done
}
# missing LANE LOG CMD...: with the platform package moved away, CMD (loading the library) must
# fail with an error that names this platform and the package to install.
missing() {
  local lane=$1 log=$2 rc aside=$WORK/tmp/aside-$1
  shift 2
  mkdir -p "$aside"
  mv "node_modules/$PLATFORM_PACKAGE" "$aside/"
  step "$log" "$@" && rc=0 || rc=$?
  mv "$aside/$(basename "$PLATFORM_PACKAGE")" "node_modules/$PLATFORM_PACKAGE"
  if ((rc != 0)) && grep -q "$PLATFORM_PACKAGE" "$log.err" && grep -q "$os-$arch" "$log.err"; then
    lane_report PASS "$lane: without $PLATFORM_PACKAGE the error names it and $os-$arch"
  else
    { echo "--- exit $rc; wanted a failure naming $PLATFORM_PACKAGE and $os-$arch, got:"; cat "$log"; } >"$log.why"
    lane_report FAIL "$lane: without $PLATFORM_PACKAGE, no clear error" "$log.why"
  fi
}
lane_report() { # as report, into the lane's output with its time
  local status=$1 name=$2 log=${3:-}
  report "$status" "$name ($(elapsed "$lane_t"))" "$log"
  lane_t=$(date +%s%N)
}

lane_node() {
  local dir=$WORK/node log=$WORK/out/node rc
  mkdir -p "$dir" && cd "$dir"
  printf 'registry=%s\n' "$REGISTRY" >.npmrc
  cp "$SRC/quickstart.mjs" "$SRC/require.cjs" "$SRC/anonymous.mjs" .
  step "$log-install" sh -c 'npm init -y && npm install @mmap/mmap' && rc=0 || rc=$?
  if ((rc == 0)) && installed "$dir" >>"$log-install"; then
    lane_report PASS "node: npm install @mmap/mmap (with $PLATFORM_PACKAGE)"
  else
    lane_report FAIL "node: npm install @mmap/mmap (exit $rc, or not just $PLATFORM_PACKAGE/$LIBRARY beside it)" "$log-install"
    return
  fi
  step "$log-esm" node --disable-warning=ExperimentalWarning quickstart.mjs && rc=0 || rc=$?
  expect "node: quickstart.mjs (open, anonymous, unmap, mmap() Buffer)" "$log-esm" "$QUICKSTART_OUT" $rc
  step "$log-cjs" node --disable-warning=ExperimentalWarning require.cjs && rc=0 || rc=$?
  expect "node: require.cjs (require, mmap.map by fd, toString, unmap)" "$log-cjs" "$REQUIRE_OUT" $rc
  missing node "$log-missing" node --disable-warning=ExperimentalWarning anonymous.mjs

  cp "$SRC/check.ts" check.mts
  cat >tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "esnext",
    "module": "nodenext",
    "types": ["node"],
    "strict": true,
    "noUncheckedIndexedAccess": true,
    "skipLibCheck": false,
    "noEmit": true
  },
  "files": ["check.mts"]
}
EOF
  if step "$log-tsinstall" npm install -D "typescript@$TYPESCRIPT_VERSION" "@types/node@$TYPES_NODE_VERSION" \
    "typescript-old@npm:typescript@$TYPESCRIPT_OLD_VERSION"; then
    step "$log-tsc" npx tsc -p tsconfig.json && rc=0 || rc=$?
    if ((rc == 0)); then
      lane_report PASS "node: tsc --noEmit (typescript $TYPESCRIPT_VERSION, strict, noUncheckedIndexedAccess, skipLibCheck false)"
    else
      lane_report FAIL "node: tsc --noEmit (typescript $TYPESCRIPT_VERSION): exit $rc" "$log-tsc"
    fi
    step "$log-tsc-old" node node_modules/typescript-old/bin/tsc -p tsconfig.json && rc=0 || rc=$?
    if ((rc == 0)); then
      lane_report PASS "node: tsc --noEmit (typescript $TYPESCRIPT_OLD_VERSION, same settings)"
    else
      lane_report FAIL "node: tsc --noEmit (typescript $TYPESCRIPT_OLD_VERSION): exit $rc" "$log-tsc-old"
    fi
  else
    lane_report FAIL "node: npm install -D typescript @types/node" "$log-tsinstall"
  fi
}

# Bun's own cache, kept between runs under .tools/ for the proxied packages; entries from this
# registry's @mmap packages and every cached manifest are dropped first, so that a republished
# version is never taken from the cache.
BUN_CACHE=$TOOLS/registry-test/bun-cache
lane_bun() {
  local dir=$WORK/bun log=$WORK/out/bun rc
  mkdir -p "$dir" "$BUN_CACHE" && cd "$dir"
  rm -rf "$BUN_CACHE"/@mmap "$BUN_CACHE"/*.npm
  printf '[install]\nregistry = "%s"\n' "$REGISTRY" >bunfig.toml
  step "$log-install" env BUN_INSTALL_CACHE_DIR="$BUN_CACHE" sh -c 'bun init -y && bun add @mmap/mmap' && rc=0 || rc=$?
  if ((rc == 0)) && installed "$dir" >>"$log-install"; then
    lane_report PASS "bun: bun init -y + bun add @mmap/mmap (with $PLATFORM_PACKAGE)"
  else
    lane_report FAIL "bun: bun init -y + bun add @mmap/mmap (exit $rc, or not just $PLATFORM_PACKAGE/$LIBRARY beside it)" "$log-install"
    return
  fi
  cp "$SRC/quickstart.mjs" "$SRC/require.cjs" "$SRC/anonymous.mjs" "$SRC/check.ts" .
  step "$log-esm" bun quickstart.mjs && rc=0 || rc=$?
  expect "bun: quickstart.mjs" "$log-esm" "$QUICKSTART_OUT" $rc
  step "$log-cjs" bun require.cjs && rc=0 || rc=$?
  expect "bun: require.cjs" "$log-cjs" "$REQUIRE_OUT" $rc
  missing bun "$log-missing" bun anonymous.mjs

  # bun build --compile, as README says: the library embedded as a file and named before the
  # import; the program then runs with no node_modules anywhere near it.
  {
    printf 'import library from "%s/%s" with { type: "file" };\n' "$PLATFORM_PACKAGE" "$LIBRARY"
    printf 'process.env.MMAP_FFI_LIB = library; // before @mmap/mmap loads\n'
    sed 's/^import { anonymous, PAGESIZE } from "@mmap\/mmap";$/const { anonymous, PAGESIZE } = await import("@mmap\/mmap");/' \
      "$SRC/anonymous.mjs"
  } >compile.mjs
  mkdir -p "$WORK/tmp/compiled"
  step "$log-compile" bun build --compile compile.mjs --outfile "$WORK/tmp/compiled/app" && rc=0 || rc=$?
  if ((rc == 0)); then
    mv node_modules "$WORK/tmp/compiled/node_modules-aside"
    (cd "$WORK/tmp/compiled" && step "$log-compiled" ./app) && rc=0 || rc=$?
    mv "$WORK/tmp/compiled/node_modules-aside" node_modules
    expect "bun: bun build --compile, run with no node_modules" "$log-compiled" "$ANONYMOUS_OUT" $rc
  else
    lane_report FAIL "bun: bun build --compile compile.mjs: exit $rc" "$log-compile"
  fi

  # bun init's tsconfig (strict, noUncheckedIndexedAccess) with the library's types checked too.
  if grep -q '"skipLibCheck": true' tsconfig.json && grep -q '"noUncheckedIndexedAccess": true' tsconfig.json &&
    grep -q '"strict": true' tsconfig.json; then
    sed -i 's/"skipLibCheck": true/"skipLibCheck": false/' tsconfig.json
    step "$log-tsc" bun x tsc --noEmit && rc=0 || rc=$?
    if ((rc == 0)); then
      lane_report PASS "bun: tsc --noEmit (bun init's tsconfig, skipLibCheck false)"
    else
      lane_report FAIL "bun: tsc --noEmit (bun init's tsconfig, skipLibCheck false): exit $rc" "$log-tsc"
    fi
  else
    cp tsconfig.json "$log-tsconfig"
    lane_report FAIL "bun: bun init's tsconfig.json no longer has strict/noUncheckedIndexedAccess/skipLibCheck" "$log-tsconfig"
  fi
}

lane_deno() {
  local dir=$WORK/deno log=$WORK/out/deno rc
  mkdir -p "$dir" && cd "$dir"
  printf 'registry=%s\n' "$REGISTRY" >.npmrc
  # A DENO_DIR of its own: Deno caches npm packages by registry host and never looks again.
  # --min-dep-age=0: Deno 2.9 skips versions published in the last 24 hours by default.
  step "$log-add" env DENO_DIR="$WORK/deno-dir" DENO_NO_UPDATE_CHECK=1 \
    deno add --min-dep-age=0 npm:@mmap/mmap && rc=0 || rc=$?
  if ((rc == 0)) && grep -q '"@mmap/mmap": "npm:@mmap/mmap@' deno.json; then
    lane_report PASS "deno: deno add npm:@mmap/mmap"
  else
    lane_report FAIL "deno: deno add npm:@mmap/mmap (exit $rc)" "$log-add"
    return
  fi
  cp "$SRC/quickstart.mjs" "$SRC/anonymous.mjs" "$SRC/check.ts" .
  # The least permissions: the library loads from the npm package with --allow-ffi alone (no
  # read of node_modules, no env); mapping a file by name needs read (and write) on it; the
  # quickstart's os.tmpdir() reads TMPDIR, TMP and TEMP.
  step "$log-anon" env DENO_DIR="$WORK/deno-dir" DENO_NO_UPDATE_CHECK=1 \
    deno run --allow-ffi anonymous.mjs && rc=0 || rc=$?
  expect "deno: deno run --allow-ffi anonymous.mjs (loads with --allow-ffi alone)" "$log-anon" "$ANONYMOUS_OUT" $rc
  # shellcheck disable=SC2054 # the commas belong to --allow-env
  local flags=(--allow-ffi --allow-read="$WORK/tmp" --allow-write="$WORK/tmp" --allow-env=TMPDIR,TMP,TEMP)
  step "$log-esm" env DENO_DIR="$WORK/deno-dir" DENO_NO_UPDATE_CHECK=1 \
    deno run "${flags[@]}" quickstart.mjs && rc=0 || rc=$?
  expect "deno: deno run --allow-ffi --allow-read=<tmp> --allow-write=<tmp> --allow-env=TMPDIR,TMP,TEMP quickstart.mjs" \
    "$log-esm" "$QUICKSTART_OUT" $rc
  step "$log-check" env DENO_DIR="$WORK/deno-dir" DENO_NO_UPDATE_CHECK=1 deno check check.ts && rc=0 || rc=$?
  if ((rc == 0)); then
    lane_report PASS "deno: deno check (the npm package's types)"
  else
    lane_report FAIL "deno: deno check: exit $rc" "$log-check"
  fi
}

say "lanes: $LANES"
pids=()
for lane in $LANES; do
  (
    set +e
    lane_t=$(date +%s%N)
    "lane_$lane"
  ) >"$WORK/out/$lane.txt" 2>&1 &
  pids+=($!)
done
i=0
for lane in $LANES; do
  wait "${pids[$i]}" || true
  i=$((i + 1))
  cat "$WORK/out/$lane.txt"
  PASSES=$((PASSES + $(grep -c '^PASS ' "$WORK/out/$lane.txt" || true)))
  FAILS=$((FAILS + $(grep -c '^FAIL ' "$WORK/out/$lane.txt" || true)))
  # A lane that died without a line is a failure too.
  grep -q '^\(PASS\|FAIL\) ' "$WORK/out/$lane.txt" || { echo "FAIL $lane: no result"; FAILS=$((FAILS + 1)); }
done

say "total $(elapsed "$t0")"
printf 'registry: %d passed, %d failed\n' "$PASSES" "$FAILS"
((FAILS == 0))
