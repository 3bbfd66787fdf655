// Builds a scenario module into a component: bundles it with the SDK
// (rolldown), then snapshots SpiderMonkey with it (componentize-js).
//
//   node build.mjs ENTRY.js WIT_DIR OUT.wasm      (molotov build runs this)
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { componentize } from "@bytecodealliance/componentize-js";
import { rolldown } from "rolldown";

const [entry, witPath, out] = process.argv.slice(2);
if (!entry || !witPath || !out) {
  console.error("usage: node build.mjs ENTRY.js WIT_DIR OUT.wasm");
  process.exit(2);
}

const sdk = fileURLToPath(new URL("./molotov.js", import.meta.url));
const bundle = await rolldown({
  // The SDK is the entry: it re-exports the scenarios' registrations as the
  // component's `scenarios` export; the user's module is imported for effect.
  input: "molotov-entry",
  external: [/^molotov:scenario\//, /^wasi:/],
  resolve: { alias: { molotov: sdk } },
  plugins: [
    {
      name: "molotov-entry",
      resolveId: (id) => (id === "molotov-entry" ? id : null),
      load: (id) =>
        id === "molotov-entry"
          ? `import ${JSON.stringify(resolve(entry))};\nexport { driver, scenarios } from ${JSON.stringify(sdk)};\n`
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
