// The wasm backend loads its .wasm binaries from disk in Node. Resolve them from the installed
// package relative to this module, so it works from the TypeScript sources (vitest, tsx) and
// from an esbuild bundle in another folder (the package stays external there).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

let wasmDir: string | undefined;

/** Folder holding tfjs-backend-wasm's .wasm binaries (with a trailing slash). */
export function wasmBinaryDir(): string {
  if (!wasmDir) {
    const require = createRequire(import.meta.url);
    wasmDir = `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'))}/`;
  }
  return wasmDir;
}

/** Points the wasm backend at its binaries; call before the wasm backend initialises. */
export function configureWasmPaths(): string {
  const dir = wasmBinaryDir();
  setWasmPaths(dir);
  return dir;
}
