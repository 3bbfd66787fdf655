// Builds a scenario module into a component: bundles it with the SDK
// (rolldown), then snapshots SpiderMonkey with it (componentize-js).
//
//   node build.mjs ENTRY.js WIT_DIR OUT.wasm      (molotov build runs this)
import { readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { componentize } from "@bytecodealliance/componentize-js";
import { rolldown } from "rolldown";

const [entry, witPath, out] = process.argv.slice(2);
if (!entry || !witPath || !out) {
  console.error("usage: node build.mjs ENTRY.js WIT_DIR OUT.wasm");
  process.exit(2);
}

const sdk = fileURLToPath(new URL("./molotov.js", import.meta.url));
const grpcClient = fileURLToPath(new URL("./grpc-client.js", import.meta.url));

// Files a scenario reads at run time are bundled now, from under the
// script's directory: .proto files (text) and protosets (base64) for the
// gRPC client. Outputs, caches and installed packages are not looked into.
const SKIPPED_DIRS = new Set(["target", "node_modules", "__pycache__", "venv", "build"]);
const MAX_BUNDLED_BYTES = 16 << 20;
async function bundledFiles(root) {
  const protos = {};
  const protosets = {};
  let total = 0;
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
      const bytes = await readFile(path);
      total += bytes.length;
      if (total > MAX_BUNDLED_BYTES) {
        console.error(`${root}: more than ${MAX_BUNDLED_BYTES >> 20} MiB of .proto files and protosets to bundle`);
        process.exit(1);
      }
      const name = relative(root, path).split(sep).join("/");
      kind[name] = kind === protos ? bytes.toString("utf8") : bytes.toString("base64");
    }
  }
  await walk(root);
  return `export const protos = ${JSON.stringify(protos)};\nexport const protosets = ${JSON.stringify(protosets)};\n`;
}
const files = await bundledFiles(dirname(resolve(entry)));
const bundle = await rolldown({
  // The SDK is the entry: it re-exports the scenarios' registrations as the
  // component's `scenarios` export; the user's module is imported for effect.
  input: "molotov-entry",
  external: [/^molotov:scenario\//, /^wasi:/],
  resolve: { alias: { "molotov/grpc": grpcClient, molotov: sdk } },
  plugins: [
    {
      name: "molotov-entry",
      resolveId: (id) => (id === "molotov-entry" || id === "molotov-bundled-files" ? id : null),
      load: (id) =>
        id === "molotov-entry"
          ? `import ${JSON.stringify(resolve(entry))};\nexport { driver, scenarios } from ${JSON.stringify(sdk)};\n`
          : id === "molotov-bundled-files"
            ? files
            : null,
    },
  ],
});
const { output } = await bundle.generate({ format: "esm" });
const { component } = await componentize(output[0].code, {
  witPath,
  worldName: "shared-scenario",
  // Only fetch needs wasi:http; the incoming-handler export is not ours.
  disableFeatures: ["fetch-event"],
});
await writeFile(out, component);
