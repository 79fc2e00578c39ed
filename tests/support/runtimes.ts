/**
 * The one runtime table of the project's tooling (tests, demo, examples, bench): which runtime
 * this is, where each one's binary is, how to run a script under it with what the library
 * needs, and how to force a garbage collection. Nothing else in the tooling knows how a runtime
 * is run.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";

/** The runtimes the library supports, in the order they are shown. */
export const RUNTIME_NAMES = ["deno", "bun", "node"] as const;

/** A runtime's name. */
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

/** What a script run under a runtime may do, beyond loading the library and reading files. */
export interface Access {
  /** Write files (Deno: `--allow-write`). */
  write?: boolean;
  /** Start processes (Deno: `--allow-run`). */
  run?: boolean;
  /** Use the network (Deno: `--allow-net`). */
  net?: boolean;
  /** Read /proc/self and everything else (Deno: `--allow-all`). */
  all?: boolean;
  /** Expose a full garbage collection as `gc()` (Deno and Node); Deno: immutable buffers too. */
  gc?: boolean;
  /** Deno: immutable ArrayBuffers (`--js-immutable-arraybuffer`), as the test task runs it. */
  immutable?: boolean;
}

/** A test body. */
export type TestBody = () => void | Promise<void>;

/** Registers a test; `timeoutMs` lifts Bun's 5-second limit per test. */
export type TestFunction = (name: string, body: TestBody, timeoutMs?: number) => void;

/** A runtime: how to find it and how to run a script under it. */
export interface Runtime {
  /** Its name: `"deno"`, `"bun"` or `"node"`. */
  readonly name: RuntimeName;
  /** Its display name: `"Deno"`, `"Bun"` or `"Node"`. */
  readonly title: string;
  /** The environment variable that says where its binary is. */
  readonly binaryVariable: string;
  /**
   * True if it moves a buffer over foreign memory to another owner with `structuredClone` or
   * `postMessage` and a transfer list; false if it refuses with a `DataCloneError` (Node, for
   * any external buffer). `ArrayBuffer.prototype.transfer` moves it on every runtime.
   */
  readonly transfersForeignBuffers: boolean;
  /**
   * The arguments that run `script` with `args` under it, with the permissions the library
   * needs (FFI, and reading files) and what `access` adds.
   */
  scriptArgs(script: string, args?: readonly string[], access?: Access): string[];
  /** Its test runner's way to register a test (call it only under this runtime). */
  testFunction(): Promise<TestFunction>;
}

/** `node:test`'s `test`, which takes its options before the body. */
type NodeTest = (name: string, options: { timeout?: number }, body: TestBody) => void;

/** Imported by a name in a variable, so Deno's type checker does not look for them. */
const BUN_TEST = "bun:test";
const NODE_TEST = "node:test";

/** Node's flags for every script: the library's `node:ffi` is experimental, and says so. */
const NODE_FLAGS = ["--disable-warning=ExperimentalWarning"];

/** Deno's V8 flags for what `access` asks. */
function denoV8Flags(access: Access): string[] {
  const flags = [
    ...(access.gc ? ["--expose-gc"] : []),
    ...(access.gc || access.immutable ? ["--js-immutable-arraybuffer"] : []),
  ];
  return flags.length === 0 ? [] : [`--v8-flags=${flags.join(",")}`];
}

/**
 * The flag a Deno child with narrow permissions needs to load the same library as this process:
 * `--allow-env=MMAP_FFI_LIB` when that variable names one (else Deno would ignore it, and load
 * the checkout's build instead), nothing otherwise.
 */
export function denoLibraryFlags(): string[] {
  return process.env.MMAP_FFI_LIB ? ["--allow-env=MMAP_FFI_LIB"] : [];
}

/** Every runtime, by name. */
export const runtimes: { readonly [N in RuntimeName]: Runtime } = {
  deno: {
    name: "deno",
    title: "Deno",
    binaryVariable: "DENO_BIN",
    transfersForeignBuffers: true,
    scriptArgs(script, args = [], access = {}) {
      const permissions = access.all ? ["--allow-all"] : [
        "--allow-ffi",
        "--allow-read",
        "--allow-env",
        ...(access.write ? ["--allow-write"] : []),
        ...(access.run ? ["--allow-run"] : []),
        ...(access.net ? ["--allow-net"] : []),
      ];
      return ["run", ...permissions, ...denoV8Flags(access), script, ...args];
    },
    testFunction: () => Promise.resolve((name, body) => Deno.test(name, body)),
  },
  bun: {
    name: "bun",
    title: "Bun",
    binaryVariable: "BUN_BIN",
    transfersForeignBuffers: true,
    // Bun has no sandbox, and its Bun.gc() needs no flag.
    scriptArgs: (script, args = []) => ["run", script, ...args],
    testFunction: async () => (await import(BUN_TEST)).test,
  },
  node: {
    name: "node",
    title: "Node",
    binaryVariable: "NODE_BIN",
    transfersForeignBuffers: false,
    // Node's permission model is off unless --permission is given.
    scriptArgs: (script, args = [], access = {}) => [
      ...NODE_FLAGS,
      ...(access.gc || access.all ? ["--expose-gc"] : []),
      script,
      ...args,
    ],
    testFunction: async () => {
      const nodeTest = (await import(NODE_TEST)).test as NodeTest;
      return (name, body, timeoutMs) => nodeTest(name, { timeout: timeoutMs }, body);
    },
  },
};

/** The name of the runtime running this process. */
function currentName(): RuntimeName {
  if ("Deno" in globalThis) return "deno";
  if ("Bun" in globalThis) return "bun";
  return "node";
}

/** The runtime running this process. */
export const current: Runtime = runtimes[currentName()];

/** This process's runtime version (`2.9.6`): each runtime reports its own under its name. */
export const currentVersion: string = process.versions[current.name] ?? "unknown";

/** The version (`2.9.6`) of a runtime's binary, or `undefined` if it cannot be run. */
export function installedVersion(runtime: Runtime): string | undefined {
  try {
    const result = spawnSync(binary(runtime), ["--version"], { encoding: "utf8" });
    return result.status === 0 ? /\d+\.\d+\.\d+/.exec(result.stdout)?.[0] : undefined;
  } catch {
    return undefined;
  }
}

/** The other runtimes, in table order. */
export const others: readonly Runtime[] = RUNTIME_NAMES
  .filter((name) => name !== current.name)
  .map((name) => runtimes[name]);

/** Looks a runtime up by name; throws a clear error for any other name. */
export function runtimeNamed(name: string): Runtime {
  if ((RUNTIME_NAMES as readonly string[]).includes(name)) return runtimes[name as RuntimeName];
  throw new Error(`unknown runtime ${JSON.stringify(name)}: use ${RUNTIME_NAMES.join(", ")}`);
}

/**
 * The command that runs a runtime: its variable (`DENO_BIN`, `BUN_BIN`, `NODE_BIN`) if set,
 * this process's own binary for its own runtime, else the name on PATH.
 */
export function binary(runtime: Runtime): string {
  const fromEnv = process.env[runtime.binaryVariable];
  if (fromEnv) return fromEnv;
  if (runtime === current) return process.execPath;
  return runtime.name;
}

/**
 * Runs a garbage collection now: a full one, or a young-generation one (`"minor"`), as
 * ordinary allocation would. Finalizers run on a later turn of the event loop. Deno and Node
 * need `gc()` exposed (see {@linkcode Access.gc}).
 */
export function forceGc(kind: "full" | "minor" = "full"): void {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  const gc = (globalThis as { gc?: (options?: { type: string }) => void }).gc;
  if (bun) bun.gc(kind === "full");
  // gc() without an argument is V8's precise full collection; with any argument (even
  // undefined) it parses options and runs a regular one, which may keep what the stack seems
  // to reference.
  else if (gc) kind === "full" ? gc() : gc({ type: "minor" });
  else throw new Error(`expose gc(): ${current.title} needs --expose-gc (Deno: as a V8 flag)`);
}
