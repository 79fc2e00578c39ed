/**
 * Opening a file by name, through the runtime's own file API (`node:fs`), so that the runtime's
 * sandbox applies exactly as to its own file operations: Deno's permissions (with its reading of
 * the path: `..` resolved as text, `/dev` reserved for `--allow-all`), Node's `--permission`.
 * The native library then maps the descriptor, which is closed at once.
 *
 * @module
 */
import * as fs from "node:fs";
import { systemError } from "./errors.ts";

const { O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_NONBLOCK } = fs.constants;

/** A file opened by name, and whether this call created it. */
export interface OpenedFile {
  readonly path: string;
  readonly fd: number;
  /** True if the open created the file: a later failure removes it again. */
  readonly created: boolean;
}

/** Files created by name get 0666 less the umask, as any new file does. */
const FILE_MODE = 0o666;

function openSync(path: string, flags: number): number {
  try {
    return fs.openSync(path, flags, FILE_MODE);
  } catch (error) {
    throw systemError(error, path);
  }
}

/**
 * Opens `path` for reading (and writing, with `write`); never blocks (a FIFO opens at once, and
 * the native side then refuses it as not a regular file). With `create`, creates the file if it
 * is missing and says whether it did: it first tries to create it exclusively, then opens the
 * one that exists (twice at most, if another process removes it in between).
 */
export function openFile(path: string, write: boolean, create: boolean): OpenedFile {
  const flags = (write ? O_RDWR : O_RDONLY) | O_NONBLOCK;
  if (!create) return { path, fd: openSync(path, flags), created: false };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return { path, fd: fs.openSync(path, flags | O_CREAT | O_EXCL, FILE_MODE), created: true };
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw systemError(error, path);
    }
    try {
      return { path, fd: fs.openSync(path, flags, FILE_MODE), created: false };
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") throw systemError(error, path);
    }
  }
  return { path, fd: openSync(path, flags | O_CREAT), created: false };
}

/**
 * Runs `use` with the file open (see {@linkcode openFile}) and closes it after. If `use` throws,
 * a file this call created is removed again, so a failed call leaves nothing behind.
 */
export function withFile<T>(
  path: string,
  write: boolean,
  create: boolean,
  use: (file: OpenedFile) => T,
): T {
  const file = openFile(path, write, create);
  try {
    return use(file);
  } catch (error) {
    if (file.created) fs.rmSync(path, { force: true });
    throw error;
  } finally {
    fs.closeSync(file.fd);
  }
}
