// Builds the UI into dist/: index.html plus content-hashed assets under dist/assets/, every
// file also pre-compressed as .gz and .br siblings so the server can send them as they are.
//
// The page must run under the server's CSP (`script-src 'self'; style-src 'self'`), so
// index.html holds no inline script or style: it only links the hashed files, by the absolute
// path the binary serves them at (/_ui/assets/…).
//
//   node build.mjs            production build, prints every file's size raw / gzip / brotli
//   import { createBuild }    used by dev.mjs to rebuild on change

import { createHash } from "node:crypto";
import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zlibConstants, gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL(".", import.meta.url));
const dist = join(root, "dist");
const assets = join(dist, "assets");
const publicPath = "/_ui/assets";

/** The first load's JavaScript, gzipped, must stay under this (the explorer's budget). */
const FIRST_LOAD_BUDGET_GZIP = 150 * 1024;

/** @type {import("esbuild").BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: { main: "src/main.tsx" },
  bundle: true,
  format: "esm",
  splitting: true,
  minify: true,
  target: ["chrome111", "firefox115", "safari16.4"],
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: assets,
  entryNames: "[name]-[hash]",
  chunkNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  loader: { ".svg": "file" },
  publicPath,
  metafile: true,
  legalComments: "eof",
  logLevel: "warning",
};

const gzip = (bytes) => gzipSync(bytes, { level: 9 });
const brotli = (bytes) =>
  brotliCompressSync(bytes, {
    params: {
      [zlibConstants.BROTLI_PARAM_QUALITY]: 11,
      [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });

async function listFiles(directory) {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((path) => !path.endsWith(".gz") && !path.endsWith(".br"));
}

/** Copies a file into assets/ under a content-hashed name; returns its public URL. */
async function copyHashed(source, name, extension) {
  const bytes = await readFile(join(root, source));
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 10);
  const fileName = `${name}-${hash}.${extension}`;
  await writeFile(join(assets, fileName), bytes);
  return `${publicPath}/${fileName}`;
}

/** Writes index.html for the outputs in `metafile`; returns the first load's JS files. */
async function writeIndex(metafile) {
  const outputs = Object.entries(metafile.outputs);
  const entry = outputs.find(([, output]) => output.entryPoint === "src/main.tsx");
  if (!entry) throw new Error("esbuild produced no output for src/main.tsx");
  const [entryPath, entryOutput] = entry;
  const url = (path) => `${publicPath}/${relative(assets, join(root, path))}`;
  const firstLoad = [entryPath, ...entryOutput.imports.filter((i) => i.kind === "import-statement").map((i) => i.path)];
  const styles = entryOutput.cssBundle ? [entryOutput.cssBundle] : [];
  const favicon = await copyHashed("src/favicon.svg", "favicon", "svg");
  const template = await readFile(join(root, "src/index.html"), "utf8");
  const head = [
    `<link rel="icon" type="image/svg+xml" href="${favicon}">`,
    ...styles.map((path) => `<link rel="stylesheet" href="${url(path)}">`),
    ...firstLoad.slice(1).map((path) => `<link rel="modulepreload" href="${url(path)}">`),
    `<script type="module" src="${url(entryPath)}"></script>`,
  ].join("\n    ");
  const html = template.replace("<!-- assets -->", head);
  if (html === template) throw new Error("src/index.html lacks the <!-- assets --> marker");
  await writeFile(join(dist, "index.html"), html);
  return firstLoad.map((path) => join(root, path));
}

/** Writes the .gz and .br siblings of every file in dist/; returns each file's sizes. */
async function compressAll() {
  const sizes = [];
  for (const path of await listFiles(dist)) {
    const bytes = await readFile(path);
    const gzipped = gzip(bytes);
    const brotlied = brotli(bytes);
    await writeFile(`${path}.gz`, gzipped);
    await writeFile(`${path}.br`, brotlied);
    sizes.push({ path, raw: bytes.length, gzip: gzipped.length, brotli: brotlied.length });
  }
  return sizes.sort((a, b) => a.path.localeCompare(b.path));
}

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`.padStart(10);

function report(sizes, firstLoad) {
  const lines = ["", "  file".padEnd(52) + "raw".padStart(10) + "gzip".padStart(10) + "brotli".padStart(10)];
  for (const size of sizes) {
    lines.push(`  ${relative(dist, size.path)}`.padEnd(52) + kib(size.raw) + kib(size.gzip) + kib(size.brotli));
  }
  const first = sizes.filter((size) => firstLoad.includes(size.path));
  const total = (key) => first.reduce((sum, size) => sum + size[key], 0);
  lines.push(
    "",
    `  first load JavaScript (${first.length} file${first.length === 1 ? "" : "s"})`.padEnd(52) +
      kib(total("raw")) + kib(total("gzip")) + kib(total("brotli")),
    `  budget: ${kib(FIRST_LOAD_BUDGET_GZIP).trim()} gzipped`,
    "",
  );
  console.log(lines.join("\n"));
  return total("gzip");
}

/** After esbuild wrote assets/: index.html, favicon, compressed siblings. */
async function finish(metafile, { quiet = false } = {}) {
  const firstLoad = await writeIndex(metafile);
  const sizes = await compressAll();
  if (quiet) return;
  const firstLoadGzip = report(sizes, firstLoad);
  if (firstLoadGzip > FIRST_LOAD_BUDGET_GZIP) {
    throw new Error(`first load is ${kib(firstLoadGzip).trim()} gzipped, over the ${kib(FIRST_LOAD_BUDGET_GZIP).trim()} budget`);
  }
}

async function clean() {
  await rm(dist, { recursive: true, force: true });
  await mkdir(assets, { recursive: true });
}

/** One production build. */
export async function build() {
  await clean();
  const result = await esbuild.build(options);
  await finish(result.metafile);
}

/** An esbuild context that rebuilds dist/ on every change (for dev.mjs). */
export async function createBuild({ onRebuilt }) {
  const rebuilt = {
    name: "logfleet-dist",
    setup(builder) {
      builder.onStart(clean);
      builder.onEnd(async (result) => {
        if (result.errors.length > 0 || !result.metafile) return;
        await finish(result.metafile, { quiet: true });
        onRebuilt();
      });
    },
  };
  return esbuild.context({ ...options, plugins: [rebuilt] });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  build().catch((error) => {
    console.error(error.message ?? error);
    process.exit(1);
  });
}
