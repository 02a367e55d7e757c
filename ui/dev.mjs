// A development server standing in for the binary's /_ui/: serves dist/ at /_ui/ (index.html
// for every non-asset path, so client-side routes load) and proxies every other path to a
// Logfleet server, streaming both ways so server-sent events (live tail) and exports flow as
// they come.
//
//   LOGFLEET_URL=http://127.0.0.1:9200 PORT=5173 node dev.mjs          rebuilds on change
//   node dev.mjs --no-watch                                             serves dist/ as built
//
// It sends the same Content-Security-Policy as the binary, so a CSP violation shows up here.

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
const dist = join(root, "dist");
const upstream = new URL(process.env.LOGFLEET_URL ?? "http://127.0.0.1:9200");
const port = Number(process.env.PORT ?? 5173);
const host = process.env.HOST ?? "127.0.0.1";
const watch = !process.argv.includes("--no-watch");

export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
  "frame-ancestors 'none'; form-action 'self'";

const contentTypes = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
};

async function fileIfExists(path) {
  try {
    const info = await stat(path);
    return info.isFile() ? path : null;
  } catch {
    return null;
  }
}

async function serveUi(request, response, pathname) {
  const isAsset = pathname.startsWith("/_ui/assets/");
  const relativePath = isAsset ? normalize(pathname.slice("/_ui/".length)) : "index.html";
  if (relativePath.startsWith("..")) {
    response.writeHead(400).end();
    return;
  }
  const path = await fileIfExists(join(dist, relativePath));
  if (!path) {
    response.writeHead(404, { "content-type": "text/plain" }).end(isAsset ? "no such asset\n" : "dist/ is not built yet: npm run build\n");
    return;
  }
  const accepts = String(request.headers["accept-encoding"] ?? "");
  const brotli = accepts.includes("br") && (await fileIfExists(`${path}.br`));
  const gzipped = !brotli && accepts.includes("gzip") && (await fileIfExists(`${path}.gz`));
  const headers = {
    "content-type": contentTypes[extname(path)] ?? "application/octet-stream",
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "cache-control": isAsset ? "public, max-age=31536000, immutable" : "no-cache",
    vary: "accept-encoding",
  };
  if (brotli) headers["content-encoding"] = "br";
  if (gzipped) headers["content-encoding"] = "gzip";
  response.writeHead(200, headers);
  createReadStream(brotli || gzipped || path).pipe(response);
}

function proxy(request, response) {
  const send = upstream.protocol === "https:" ? httpsRequest : httpRequest;
  const outgoing = send(
    {
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: { ...request.headers, host: upstream.host },
    },
    (incoming) => {
      response.writeHead(incoming.statusCode ?? 502, incoming.headers);
      // Flush every chunk at once: a server-sent event must not wait in a buffer.
      response.flushHeaders();
      incoming.pipe(response);
    },
  );
  outgoing.on("error", (error) => {
    if (response.headersSent) {
      response.destroy();
      return;
    }
    response.writeHead(502, { "content-type": "application/json" });
    response.end(JSON.stringify({ error: { type: "proxy_error", reason: `${upstream.origin}: ${error.message}` }, status: 502 }));
  });
  // The browser closing a tail or cancelling an export must close the upstream stream too.
  response.on("close", () => outgoing.destroy());
  request.pipe(outgoing);
}

export function startServer() {
  const server = createServer((request, response) => {
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
    if (pathname === "/_ui" || pathname.startsWith("/_ui/")) {
      serveUi(request, response, pathname).catch((error) => {
        response.writeHead(500, { "content-type": "text/plain" }).end(String(error));
      });
    } else {
      proxy(request, response);
    }
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (watch) {
    const { createBuild } = await import("./build.mjs");
    const context = await createBuild({ onRebuilt: () => console.log(`rebuilt ${new Date().toLocaleTimeString()}`) });
    await context.watch();
  }
  await startServer();
  console.log(`logfleet ui on http://${host}:${port}/_ui/ → API at ${upstream.origin}${watch ? " (rebuilding on change)" : ""}`);
}
