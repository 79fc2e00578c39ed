/**
 * One way to start a worker thread and talk to it on every runtime: a web `Worker` where the
 * runtime has one (Deno, Bun), else `node:worker_threads` (Node). Worker scripts use
 * {@linkcode workerScope} for their side.
 *
 * @module
 */
import * as threads from "node:worker_threads";

/** A worker thread, as the tests use it. */
export interface TestWorker {
  /** Sends a message, moving what `transfer` lists. */
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /** Calls `handler` with each message's data. */
  onMessage(handler: (data: unknown) => void): void;
  /** Resolves with the next message's data. */
  next(): Promise<unknown>;
  /** Stops the worker. */
  terminate(): void;
}

interface WebWorker {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  terminate(): void;
}

type WebWorkerConstructor = new (url: string, options: { type: "module" }) => WebWorker;

/** Starts the module at `url` as a worker thread. */
export function startWorker(url: URL | string): TestWorker {
  const href = typeof url === "string" ? url : url.href;
  const Web = (globalThis as { Worker?: WebWorkerConstructor }).Worker;
  let handler: (data: unknown) => void = () => {};
  if (Web !== undefined) {
    const worker = new Web(href, { type: "module" });
    worker.onmessage = (event) => handler(event.data);
    return {
      postMessage: (message, transfer = []) => worker.postMessage(message, transfer),
      onMessage: (next) => handler = next,
      next: () => new Promise((resolve) => handler = resolve),
      terminate: () => worker.terminate(),
    };
  }
  const worker = new threads.Worker(new URL(href));
  worker.on("message", (data) => handler(data));
  return {
    postMessage: (message, transfer = []) =>
      worker.postMessage(message, transfer as unknown as threads.Transferable[]),
    onMessage: (next) => handler = next,
    next: () => new Promise((resolve) => handler = resolve),
    terminate: () => void worker.terminate(),
  };
}

/** A worker's side of the conversation. */
export interface WorkerScope {
  /** Calls `handler` with each message's data. */
  onMessage(handler: (data: unknown) => void): void;
  /** Sends a message to the thread that started this one. */
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

interface WebScope {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

/** This worker's side: its web global scope, or `node:worker_threads`' `parentPort`. */
export function workerScope(): WorkerScope {
  const web = globalThis as unknown as Partial<WebScope>;
  if (typeof web.postMessage === "function") {
    const scope = web as WebScope;
    return {
      onMessage: (handler) => scope.onmessage = (event) => handler(event.data),
      postMessage: (message, transfer = []) => scope.postMessage(message, transfer),
    };
  }
  const port = threads.parentPort;
  if (port === null) throw new Error("workerScope() is for worker threads");
  return {
    onMessage: (handler) => port.on("message", handler),
    postMessage: (message, transfer = []) =>
      port.postMessage(message, transfer as unknown as threads.Transferable[]),
  };
}
