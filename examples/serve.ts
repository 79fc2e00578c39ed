// A static file server that answers from memory-mapped files, keeping the mappings of the most
// recently served files in a small LRU cache (a hit costs a stat(), no open() or read()). One
// code path for every runtime: node:http.
// Run: deno run --allow-ffi --allow-read --allow-env --allow-net examples/serve.ts [ROOT] [OPTIONS]
//  or: bun run examples/serve.ts [ROOT] [OPTIONS]
//  or: node --disable-warning=ExperimentalWarning examples/serve.ts [ROOT] [OPTIONS]
// ROOT defaults to the current folder. OPTIONS: --port N (default 8000; 0 picks a free one),
// --host H (default 127.0.0.1: loopback only), --cache N (files kept mapped, default 64).
// Ctrl-C (or SIGTERM) stops it and unmaps everything.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import process from "node:process";
import { type Mapping, open } from "../mod.ts";

interface Entry {
  bytes: Mapping;
  size: number;
  mtimeMs: number;
}

/**
 * The mappings of recently served files, least recently used first. An evicted one is dropped,
 * not unmapped: a reply may still be sending it, and the runtime frees it once nothing does.
 */
export class MappingCache {
  readonly #entries = new Map<string, Entry>();
  readonly #capacity: number;

  /** Keeps at most `capacity` files mapped. */
  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The file's mapping (null if empty), cached while the file is unchanged; and if it was a hit. */
  get(file: string, stat: fs.Stats): { bytes: Mapping | null; hit: boolean } {
    const cached = this.#entries.get(file);
    if (cached && cached.size === stat.size && cached.mtimeMs === stat.mtimeMs) {
      this.#entries.delete(file); // re-inserting moves it to the most recent end
      this.#entries.set(file, cached);
      return { bytes: cached.bytes, hit: true };
    }
    if (cached) this.#entries.delete(file); // the file changed: map it afresh
    if (stat.size === 0) return { bytes: null, hit: false }; // an empty file: nothing to map
    const bytes = open(file); // read-only; writes could never reach the file
    this.#entries.set(file, { bytes, size: stat.size, mtimeMs: stat.mtimeMs });
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#capacity) break;
      this.#entries.delete(oldest);
    }
    return { bytes, hit: false };
  }

  /** How many files are mapped now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Unmaps every cached file (once the server has sent its last reply). */
  clear(): void {
    for (const entry of this.#entries.values()) entry.bytes.unmap();
    this.#entries.clear();
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

/** What to answer: a status, headers (with the content length), and the body (none for HEAD). */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array | null;
}

const encoder = new TextEncoder();

/** A reply of `body` (text, or bytes that are the reply's own), with its length. */
function reply(status: number, type: string, body: Uint8Array | string, head = false): Reply {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  return {
    status,
    headers: { "content-type": type, "content-length": String(bytes.length) },
    body: head ? null : bytes,
  };
}

const text = (status: number, message: string) =>
  reply(status, "text/plain; charset=utf-8", message + "\n");

function listing(urlPath: string, folder: string, head: boolean): Reply {
  const escape = (text: string) => text.replace(/[&<>"]/g, (char) => `&#${char.charCodeAt(0)};`);
  const base = urlPath.endsWith("/") ? urlPath : urlPath + "/";
  const items = fs.readdirSync(folder, { withFileTypes: true }).map((entry) => {
    const name = entry.name + (entry.isDirectory() ? "/" : "");
    return `<li><a href="${escape(base + encodeURIComponent(entry.name))}">${
      escape(name)
    }</a></li>`;
  });
  const page = `<!doctype html><title>${escape(base)}</title><ul>${items.join("")}</ul>`;
  return reply(200, "text/html; charset=utf-8", page, head);
}

/**
 * Answers a request (its method, and its URL as sent: a path and query) for a file under `root`
 * (a real path), from `cache`.
 */
export function handle(method: string, url: string, root: string, cache: MappingCache): Reply {
  if (method !== "GET" && method !== "HEAD") return text(405, "method not allowed");
  const head = method === "HEAD";
  let urlPath: string;
  try {
    urlPath = decodeURIComponent(new URL(url, "http://localhost").pathname);
  } catch {
    return text(400, "bad path");
  }
  let file: string;
  try {
    file = fs.realpathSync(path.join(root, urlPath));
  } catch {
    return text(404, "not found");
  }
  // Refuse anything that resolves outside the root, through ".." or a symbolic link.
  if (file !== root && !file.startsWith(root + path.sep)) return text(403, "forbidden");
  let stat = fs.statSync(file);
  if (stat.isDirectory()) {
    const index = path.join(file, "index.html");
    if (!fs.existsSync(index)) return listing(urlPath, file, head);
    file = index;
    stat = fs.statSync(file);
  }
  if (!stat.isFile()) return text(403, "not a file");
  const { bytes, hit } = cache.get(file, stat);
  const headers = {
    "content-type": contentType(file),
    "content-length": String(bytes?.length ?? 0),
    "x-mmap-cache": hit ? "hit" : "miss",
  };
  // The mapping itself, no copy: an eviction while it is being sent only drops it (see
  // MappingCache).
  return { status: 200, headers, body: head ? null : bytes ?? new Uint8Array(0) };
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
  if (!Number.isInteger(options.cacheSize) || options.cacheSize < 1) {
    throw new Error("--cache takes a number of files, at least 1");
  }
  if (options.host === undefined) throw new Error("--host takes a host name or address");
  return options;
}

if (import.meta.main) {
  const options = parseArguments(process.argv.slice(2));
  const root = fs.realpathSync(options.root);
  const cache = new MappingCache(options.cacheSize);
  const server = http.createServer((request, response) => {
    let answer: Reply;
    try {
      answer = handle(request.method ?? "GET", request.url ?? "/", root, cache);
    } catch (error) {
      // A file that went away between the checks, or that may not be read.
      answer = text(500, `cannot serve it: ${(error as Error).message}`);
    }
    response.writeHead(answer.status, answer.headers);
    response.end(answer.body ?? undefined);
  });
  server.on("error", (error) => {
    console.error(`serve.ts: ${error.message}`); // the port is taken, say
    process.exit(1);
  });
  server.listen(options.port, options.host, () => {
    const { port } = server.address() as AddressInfo;
    const host = options.host.includes(":") ? `[${options.host}]` : options.host;
    console.log(`serving ${root} on http://${host}:${port}/`);
  });
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130); // a second Ctrl-C: do not wait for open responses
    stopping = true;
    // Finish the responses under way, close idle keep-alive connections, then unmap.
    server.close(() => {
      cache.clear();
      console.log("stopped; every mapping unmapped");
      process.exit(0);
    });
    server.closeIdleConnections();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
