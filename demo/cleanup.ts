/**
 * Undoes what the demo created — child processes, shared-memory names, temp folders — when it
 * ends, fails, or is interrupted with Ctrl-C (SIGINT) or SIGTERM, under any runtime.
 *
 * @module
 */
import process from "node:process";

type Undo = () => void;

const undos: Undo[] = [];

/** Registers an undo step; steps run last-registered first. Returns a function that drops it. */
export function onCleanup(undo: Undo): () => void {
  undos.push(undo);
  return () => {
    const index = undos.indexOf(undo);
    if (index >= 0) undos.splice(index, 1);
  };
}

/** Runs every registered undo step once (errors are reported, not thrown). */
export function cleanUp(): void {
  while (undos.length > 0) {
    const undo = undos.pop()!;
    try {
      undo();
    } catch (error) {
      console.error(`cleanup: ${error instanceof Error ? error.message : error}`);
    }
  }
}

/** On SIGINT or SIGTERM: clean up, say so, and exit with 128 + the signal number. */
export function cleanUpOnSignals(): void {
  const signals = [["SIGINT", 2], ["SIGTERM", 15]] as const;
  for (const [signal, number] of signals) {
    process.on(signal, () => {
      process.stderr.write("\n");
      cleanUp();
      console.error(`${signal}: stopped; everything the demo created is removed.`);
      process.exit(128 + number);
    });
  }
}
