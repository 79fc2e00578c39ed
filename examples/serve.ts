// A static file server that answers from memory-mapped files, keeping the mappings of the most
// recently served files in a small LRU cache (a hit costs a stat(), no open() or read()).
// Run: deno run --allow-ffi --allow-read --allow-env --allow-net examples/serve.ts [ROOT] [--port N]
//  or: bun run examples/serve.ts [ROOT] [--port N]
// ROOT defaults to the current folder, the port to 8000 (0 picks a free one); it listens on
// 127.0.0.1 only (--host to change that). Ctrl-C stops it and unmaps everything.
import * as fs from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { type Mapping, open } from "../mod.ts";

type Mapped = Mapping;

interface Entry {
  bytes: Mapped;
  size: number;
  mtimeMs: number;
}

/** The mappings of recently served files, least recently used first; evicted ones unmapped. */
export class MappingCache {
  readonly #entries = new Map<string, Entry>();
  readonly #capacity: number;

  /** Keeps at most `capacity` files mapped. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The file's mapping (null if empty), cached while the file is unchanged; and if it was a hit. */
  get(file: string, stat: fs.Stats): { bytes: Mapped | null; hit: boolean } {
    const cached = this.#entries.get(file);
    if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) {
      this.#entries.delete(file); // re-inserting moves it to the most recent end
      this.#entries.set(file, cached);
      return { bytes: cached.bytes, hit: true };
    }
    if (cached) this.#drop(file, cached);
    if (stat.size === 0) return { bytes: null, hit: false }; // an empty file: nothing to map
    const bytes = open(file); // read-only; writes could never reach the file
    this.#entries.set(file, { bytes, size: stat.size, mtimeMs: stat.mtimeMs });
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#capacity) break;
      this.#drop(oldest, entry);
    }
    return { bytes, hit: false };
  }

  /** How many files are mapped now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Unmaps every cached file. */
  clear(): void {
    for (const [file, entry] of this.#entries) this.#drop(file, entry);
  }

  #drop(file: string, entry: Entry): void {
    this.#entries.delete(file);
    // Safe at once: a Response copies the bytes it is given when it is made.
    entry.bytes.unmap();
  }
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".wasm": "application/wasm",
};

function contentType(file: string): string {
  return TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
}

function listing(urlPath: string, folder: string): Response {
  const escape = (text: string) => text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
  const base = urlPath.endsWith("/") ? urlPath : urlPath + "/";
  const items = fs.readdirSync(folder, { withFileTypes: true }).map((entry) => {
    const name = entry.name + (entry.isDirectory() ? "/" : "");
    return `<li><a href="${escape(base + encodeURIComponent(entry.name))}">${
      escape(name)
    }</a></li>`;
  });
  return new Response(`<!doctype html><title>${escape(base)}</title><ul>${items.join("")}</ul>`, {
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}

/** Answers a request for a file under `root` (a real path), from `cache`. */
export function handle(request: Request, root: string, cache: MappingCache): Response {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405 });
  }
  let urlPath: string;
  try {
    urlPath = decodeURIComponent(new URL(request.url).pathname);
  } catch {
    return new Response("bad path\n", { status: 400 });
  }
  let file: string;
  try {
    file = fs.realpathSync(path.join(root, urlPath));
  } catch {
    return new Response("not found\n", { status: 404 });
  }
  // Refuse anything that resolves outside the root, through ".." or a symbolic link.
  if (file !== root && !file.startsWith(root + path.sep)) {
    return new Response("forbidden\n", { status: 403 });
  }
  let stat = fs.statSync(file);
  if (stat.isDirectory()) {
    const index = path.join(file, "index.html");
    if (!fs.existsSync(index)) return listing(urlPath, file);
    file = index;
    stat = fs.statSync(file);
  }
  if (!stat.isFile()) return new Response("not a file\n", { status: 403 });
  const { bytes, hit } = cache.get(file, stat);
  const headers = { "content-type": contentType(file), "x-mmap-cache": hit ? "hit" : "miss" };
  return new Response(request.method === "HEAD" ? null : bytes, { headers });
}

interface Options {
  root: string;
  host: string;
  port: number;
  cacheSize: number;
}

function parseArguments(args: string[]): Options {
  const options: Options = { root: ".", host: "127.0.0.1", port: 8000, cacheSize: 64 };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    if (arg === "--port") options.port = Number(args[++index]);
    else if (arg === "--host") options.host = args[++index];
    else if (arg === "--cache") options.cacheSize = Number(args[++index]);
    else if (arg.startsWith("--")) throw new Error(`unknown option ${arg}`);
    else options.root = arg;
  }
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new Error("--port takes a number from 0 to 65535");
  }
  return options;
}

interface Server {
  port: number;
  stop(): Promise<void>;
}

/** Starts `fetch` on the host and port with `Deno.serve` or `Bun.serve`. */
function listen(host: string, port: number, fetch: (request: Request) => Response): Server {
  const bun = (globalThis as {
    Bun?: {
      serve(options: object): { port: number; stop(closeActive?: boolean): Promise<void> };
    };
  }).Bun;
  if (bun) {
    const server = bun.serve({ hostname: host, port, fetch });
    return { port: server.port, stop: () => server.stop() };
  }
  const server = Deno.serve({ hostname: host, port, onListen: () => {} }, fetch);
  return { port: server.addr.port, stop: () => server.shutdown() };
}

if (import.meta.main) {
  const options = parseArguments(process.argv.slice(2));
  const root = fs.realpathSync(options.root);
  const cache = new MappingCache(options.cacheSize);
  const server = listen(options.host, options.port, (request) => handle(request, root, cache));
  console.log(`serving ${root} on http://${options.host}:${server.port}/`);
  const stop = async () => {
    await server.stop();
    cache.clear();
    console.log("stopped; every mapping unmapped");
    process.exit(0);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    if ("Bun" in globalThis) process.on(signal, stop);
    else Deno.addSignalListener(signal, stop);
  }
}
