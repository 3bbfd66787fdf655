// SpiderMonkey made ready for a script in about a second rather than five,
// with lean bindings:
// componentize-js splices the contract's bindings into the engine and, after
// snapshotting it with the script, stubs out the WASI imports it leaves
// unused. Both passes run its splicer (Rust compiled to WebAssembly) in
// node, whose compiler needs seconds to make that code fast in each new
// process.
//
// - The splice is the same for every script built with one SDK and
//   contract: it is kept on disk, keyed by everything it reads.
// - The stubbing is left out. The imports it would stub (files, sockets,
//   arguments, environment) are the ones a Rust, Go or Python component has
//   too, and the host's WASI grants none of them (no preopened directory,
//   no socket, no environment): a call fails there as a stub would.
//
// componentize-js (pinned exactly in package.json) calls its splicer
// through a plain object, whose two functions are replaced here.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const componentizeJs = import.meta.resolve("@bytecodealliance/componentize-js");
const { splicer } = await import(new URL("../lib/spidermonkey-embedding-splicer.js", componentizeJs));
const { version } = JSON.parse(readFileSync(new URL("../package.json", componentizeJs), "utf8"));
if (typeof splicer?.spliceBindings !== "function" || typeof splicer?.stubWasi !== "function") {
  throw new Error(`componentize-js ${version} has no splicer where the SDK expects it: install the version package.json pins`);
}

/** Builds from now on use lean bindings and keep the engine's splices in
 * `dir` (none when undefined). */
export function reuseEngine(dir) {
  splicer.stubWasi = (wasm) => wasm;
  const splice = dir ? cachedIn(dir, splicer.spliceBindings) : splicer.spliceBindings;
  splicer.spliceBindings = (...args) => {
    const spliced = splice(...args);
    return { ...spliced, jsBindings: lean(spliced.jsBindings) };
  };
}

/** `splice`, its results kept in `dir`. The splicer is synchronous, and
 * so is its cache. */
function cachedIn(dir, splice) {
  return (engine, features, witWorld, witPath, worldName, debug) => {
    const key = createHash("sha256")
      .update(JSON.stringify([version, features, witWorld ?? null, worldName, debug]))
      .update(engine)
      .update(witPath ? witText(witPath) : "")
      .digest("hex");
    const [wasmFile, metaFile] = [join(dir, `${key}.wasm`), join(dir, `${key}.json`)];
    try {
      const { length, ...meta } = JSON.parse(readFileSync(metaFile, "utf8"));
      const wasm = readFileSync(wasmFile);
      if (wasm.length === length) return { ...meta, wasm: new Uint8Array(wasm) };
    } catch {
      // Not there yet, or half-written: spliced anew, and written over.
    }
    const made = splice(engine, features, witWorld, witPath, worldName, debug);
    const { wasm, ...meta } = made;
    mkdirSync(dir, { recursive: true });
    // Each file under a temporary name first, the metadata (which holds
    // the engine's length) last: builds running at once never read half.
    const described = JSON.stringify({ ...meta, length: wasm.length });
    for (const [file, bytes] of [[wasmFile, wasm], [metaFile, described]]) {
      const partial = `${file}.${process.pid}.partial`;
      writeFileSync(partial, bytes);
      renameSync(partial, file);
    }
    return made;
  };
}

/** The generated bindings without what each call pays for and the SDK
 * never needs: the debug logging (two objects built per import call for a
 * log that is off) and the finalization records of responses (the SDK
 * releases every response when its run ends). */
function lean(bindings) {
  return bindings
    .replace(/^\s*_debugLog\((?:[^()]|\([^()]*\))*\);\n/gm, "")
    .replace(/^\s*finalizationRegistry_import\$http_[\w$]*\$response\.(?:un)?register\([^;]*\);\n/gm, "");
}

/** The WIT files at `witPath` (a file, or a directory of them), in name order. */
function witText(witPath) {
  if (!statSync(witPath).isDirectory()) return readFileSync(witPath, "utf8");
  return readdirSync(witPath)
    .filter((name) => name.endsWith(".wit"))
    .sort()
    .map((name) => readFileSync(join(witPath, name), "utf8"))
    .join("\0");
}
