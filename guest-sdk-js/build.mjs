// Builds a scenario module into a component: bundles it with the SDK
// (rolldown), then snapshots SpiderMonkey with it (componentize-js). A k6
// script (one that imports k6's modules, or exports a default function and
// no molotov scenario) is bundled as a function that each instance calls at
// run time, its k6 imports given by the SDK's k6 layer (k6/runner.js).
//
//   node build.mjs ENTRY.js WIT_DIR OUT.wasm [ENGINE_CACHE_DIR]
//
// molotov build runs this, with a directory where the engine, the same for
// every script, is kept between builds (engine-cache.mjs).
import { access, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { componentize } from "@bytecodealliance/componentize-js";
import { rolldown } from "rolldown";
import { reuseEngine } from "./engine-cache.mjs";
import { asyncify } from "./k6/asyncify.mjs";

const [entry, witPath, out, engineCache] = process.argv.slice(2);
if (!entry || !witPath || !out) {
  console.error("usage: node build.mjs ENTRY.js WIT_DIR OUT.wasm [ENGINE_CACHE_DIR]");
  process.exit(2);
}
reuseEngine(engineCache);

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const sdk = here("./molotov.js");
const scriptDir = dirname(resolve(entry));

/** Ends the build with one line (the CLI shows it as the build's failure). */
function refuse(message) {
  console.error(message);
  process.exit(1);
}

// k6's modules as the SDK provides them (those of each VU's own, null,
// are made by k6/runner.js).
const K6_MODULES = {
  k6: null,
  "k6/http": null,
  "k6/metrics": "./k6/metrics.js",
  "k6/execution": null,
  "k6/encoding": "./k6/encoding.js",
  "k6/crypto": "./k6/crypto.js",
  "k6/data": "./k6/data.js",
  "k6/html": "./k6/html.js",
  "k6/net/grpc": "./grpc-client.js",
  "k6/timers": null,
  "k6/websockets": null,
  "k6/experimental/websockets": null,
  "k6/ws": null,
};
const isK6Module = (id) => id === "k6" || id.startsWith("k6/");
// jslib.k6.io's modules that the SDK carries its own version of, by the
// URL's path (any version): the build fetches nothing.
const requireHere = createRequire(import.meta.url);
const JSLIB = {
  "k6-summary": here("./k6/jslib/k6-summary.js"),
  "k6-utils": here("./k6/jslib/k6-utils.js"),
  // jslib's papaparse is the npm package as published.
  papaparse: requireHere.resolve("papaparse"),
};
function jslibModule(id) {
  const match = /^https:\/\/jslib\.k6\.io\/([\w-]+)\/[\w.-]+\/index\.js$/.exec(id);
  return (match && JSLIB[match[1]]) ?? null;
}

// Files a scenario reads at run time are bundled now, from under the
// script's directory: .proto files (text) and protosets (base64) for the
// gRPC client. Outputs, caches and installed packages are not looked into.
const SKIPPED_DIRS = new Set(["target", "node_modules", "__pycache__", "venv", "build"]);
const MAX_BUNDLED_BYTES = 16 << 20;
let bundledBytes = 0;
async function readBounded(path) {
  const bytes = await readFile(path);
  bundledBytes += bytes.length;
  if (bundledBytes > MAX_BUNDLED_BYTES) refuse(`${scriptDir}: more than ${MAX_BUNDLED_BYTES >> 20} MiB of files to bundle`);
  return bytes;
}
async function protoFiles(root) {
  const protos = {};
  const protosets = {};
  async function walk(dir) {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(path);
        continue;
      }
      const kind = entry.name.endsWith(".proto") ? protos : /\.(protoset|pb)$/.test(entry.name) ? protosets : null;
      if (!kind || !entry.isFile()) continue;
      const bytes = await readBounded(path);
      const name = relative(root, path).split(sep).join("/");
      kind[name] = kind === protos ? bytes.toString("utf8") : bytes.toString("base64");
    }
  }
  await walk(root);
  return { protos, protosets };
}

/** cheerio's build for browsers: parse5 (an HTML5 parser, as Go's that k6
 * uses) without the fetching that its build for node brings. */
function cheerioForBrowsers() {
  const pkg = requireHere.resolve("cheerio/package.json");
  return join(dirname(pkg), "dist/browser/index.js");
}

/** Whether the entry is a k6 script rather than a molotov one. */
async function isK6Script() {
  const source = await readFile(entry, "utf8");
  if (/\bfrom\s*["']molotov(\/[^"']*)?["']/.test(source)) return false;
  return /(\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["']k6(\/[^"']*)?["']/.test(source) || /\bexport\s+default\b/.test(source);
}

/** The k6 script and its own modules as the body of a function that
 * returns its exports, k6's modules taken from `require`. */
async function k6ScriptFunction() {
  const bundle = await rolldown({
    input: resolve(entry),
    platform: "neutral",
    // papaparse requires node's `stream` only to parse a stream, which a k6
    // script cannot give it: left unresolved, never called.
    external: (id, importer) => id in K6_MODULES || (id === "stream" && importer === JSLIB.papaparse),
    plugins: [
      {
        name: "k6-modules",
        resolveId(id) {
          if (isK6Module(id) && !(id in K6_MODULES)) {
            refuse(`${entry} imports ${id}, which molotov does not support (it has ${Object.keys(K6_MODULES).join(", ")})`);
          }
          const jslib = jslibModule(id);
          if (jslib) return jslib;
          if (/^https?:\/\//.test(id)) {
            refuse(`${entry} imports ${id}: the build fetches nothing; save the module beside the script and import it from there (the SDK has its own ${Object.keys(JSLIB).join(", ")} from jslib.k6.io)`);
          }
          return null;
        },
      },
    ],
    onLog(level, log) {
      if (level === "warn" && log.code === "UNRESOLVED_IMPORT") refuse(`${entry}: ${log.message}`);
    },
  });
  const { output } = await bundle.generate({ format: "cjs", exports: "named" });
  return output[0].code;
}

/** The files that `open("…")` names with a literal path in `code`, base64. */
async function openedFiles(code) {
  const files = {};
  for (const [, , path] of code.matchAll(/\bopen\(\s*(["'`])([^"'`]+)\1/g)) {
    const name = path.replace(/^\.\//, "");
    try {
      files[name] = (await readBounded(resolve(scriptDir, name))).toString("base64");
    } catch {
      refuse(`${entry}: open(${JSON.stringify(path)}): no such file beside the script`);
    }
  }
  return files;
}

const k6Script = await isK6Script();
const { protos, protosets } = await protoFiles(scriptDir);
const modules = {
  "molotov-bundled-files": `export const protos = ${JSON.stringify(protos)};\nexport const protosets = ${JSON.stringify(protosets)};\n`,
};
const entryModule = `import ${JSON.stringify(resolve(entry))};\nexport { driver, scenarios } from ${JSON.stringify(sdk)};\n`;
if (k6Script) {
  let code;
  try {
    code = await k6ScriptFunction();
  } catch (e) {
    refuse(`${entry}: ${String(e.message ?? e).split("\n")[0]}`);
  }
  const files = await openedFiles(code);
  // Awaited waiting calls let many VUs share an instance; where that cannot
  // be done safely, each VU gets an instance of its own.
  const rewritten = asyncify(code);
  if (rewritten.why) console.log(`${entry}: a VU per instance: ${rewritten.why}`);
  // The HTML parser (cheerio) adds about 4 MB to the component: only for a
  // script that parses HTML (response.html(), submitForm, clickLink, k6/html).
  const parsesHtml = /\.(html|submitForm|clickLink)\s*\(|["']k6\/html["']/.test(code);
  // A request's own responseCallback: the k6 layer judges each request's
  // http_req_failed (one more host call per request), not the host.
  const failedPerRequest = /\bresponseCallback\b/.test(code);
  const imports = Object.entries(K6_MODULES)
    .filter(([id, path]) => path && (id !== "k6/html" || parsesHtml))
    .map(([id, path], i) => [id, `k6module${i}`, here(path)]);
  modules["molotov-entry"] = [
    ...imports.map(([, name, path]) => `import ${name} from ${JSON.stringify(path)};`),
    `import { runK6Script } from ${JSON.stringify(here("./k6/runner.js"))};`,
    // The bundle reads a module's default export as `require(id)` itself
    // (Node's interop), and its named ones as its properties: each module's
    // default export has them all.
    `const modules = { ${imports.map(([id, name]) => `${JSON.stringify(id)}: ${name}`).join(", ")} };`,
    // The script as one VU's init context: __VU and __ITER are that VU's.
    // k6's timer globals are the VU's, as k6/timers is: declared outside
    // the script's own scope, which may declare them again.
    `function compile(require, vu) {`,
    `  const { setTimeout, clearTimeout, setInterval, clearInterval } = vu.timers;`,
    `  return (() => {`,
    `  const module = { exports: {} };`,
    `  const exports = module.exports;`,
    `  const __VU = vu.id;`,
    `  let __ITER = 0;`,
    `  vu.setIteration = (n) => (__ITER = n);`,
    rewritten.code ?? code,
    `  return module.exports;`,
    `  })();`,
    `}`,
    `runK6Script({ compile, shared: ${rewritten.code !== undefined}, modules, files: ${JSON.stringify(files)}, failedPerRequest: ${failedPerRequest} });`,
    `export { driver, scenarios } from ${JSON.stringify(sdk)};`,
    `export { script } from ${JSON.stringify(here("./k6/runner.js"))};`,
  ].join("\n");
} else {
  modules["molotov-entry"] = entryModule;
}

const bundle = await rolldown({
  // The SDK is the entry: it re-exports the scenarios' registrations as the
  // component's `scenarios` export; the user's module is imported for effect.
  input: "molotov-entry",
  external: [/^molotov:scenario\//, /^wasi:/],
  resolve: { alias: { "molotov/grpc": here("./grpc-client.js"), molotov: sdk, cheerio: cheerioForBrowsers() } },
  plugins: [
    {
      name: "molotov-virtual-modules",
      resolveId: (id) => (id in modules ? id : null),
      load: (id) => modules[id] ?? null,
    },
  ],
});
const { output } = await bundle.generate({ format: "esm" });
// Opt-in: SpiderMonkey's interpreter compiled ahead of time for this script
// by weval (its path in MOLOTOV_WEVAL), about a quarter more requests per
// CPU-second, for a slower build and a larger component.
const weval = process.env.MOLOTOV_WEVAL;
if (weval && !(await access(weval).then(() => true, () => false))) refuse(`MOLOTOV_WEVAL=${weval}: no such file`);
const { component } = await componentize(output[0].code, {
  witPath,
  worldName: k6Script ? "script-scenario" : "shared-scenario",
  // Only fetch needs wasi:http; the incoming-handler export is not ours.
  disableFeatures: ["fetch-event"],
  ...(weval ? { enableAot: true, wevalBin: weval } : {}),
});
await writeFile(out, component);
