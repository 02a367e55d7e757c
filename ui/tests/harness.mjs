// Shared by the browser tests: the real logfleet binary on a free port with a fresh data
// directory, realistic seed-like events, the UI (served by the binary, or by dev.mjs in front
// of it), and a headless Chromium whose console errors, warnings and page errors are kept.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const uiRoot = fileURLToPath(new URL("..", import.meta.url));
export const screenshotDir = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));
export const dashboardDir = fileURLToPath(new URL("../../dashboards/", import.meta.url));

/** The binary under test: LOGFLEET_BIN, or the workspace's debug build. */
export function binaryPath() {
  const path = process.env.LOGFLEET_BIN ?? fileURLToPath(new URL("../../target/debug/logfleet", import.meta.url));
  if (!existsSync(path)) {
    throw new Error(`no logfleet binary at ${path}: set LOGFLEET_BIN (cargo build -p logfleet-server gives target/debug/logfleet)`);
  }
  return path;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(url, child, what, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let exited = null;
  child.once("exit", (code) => { exited = code; });
  while (Date.now() < deadline) {
    if (exited !== null) throw new Error(`${what} exited with ${exited} before answering`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  throw new Error(`${what} did not answer ${url} within ${timeoutMs} ms`);
}

function spawnLogged(command, args, options, name) {
  const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  const output = [];
  const keep = (chunk) => {
    output.push(chunk.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.logs = () => `--- ${name} output ---\n${output.join("")}`;
  return child;
}

async function stopChild(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

/** The UI's URL for a server: LOGFLEET_UI_URL, the binary's own /_ui/, or dev.mjs in front of it. */
async function uiFor(apiUrl, children) {
  let uiUrl = process.env.LOGFLEET_UI_URL;
  if (!uiUrl) {
    // The UI built into the binary (or the build that LOGFLEET_UI_DIR names), unless the
    // binary was built without Node.js and only says how to build it.
    const page = await fetch(`${apiUrl}/_ui/`).then((response) => (response.ok ? response.text() : ""), () => "");
    const served = page.includes("/_ui/assets/main-");
    if (served) {
      uiUrl = `${apiUrl}/_ui/`;
    } else {
      const devPort = await freePort();
      const dev = spawnLogged(process.execPath, [join(uiRoot, "dev.mjs"), "--no-watch"], {
        env: { ...process.env, LOGFLEET_URL: apiUrl, PORT: String(devPort) },
      }, "dev.mjs");
      children.push(dev);
      await waitFor(`http://127.0.0.1:${devPort}/_ui/`, dev, "dev.mjs");
      uiUrl = `http://127.0.0.1:${devPort}/_ui/`;
    }
  }
  return uiUrl.endsWith("/") ? uiUrl : `${uiUrl}/`;
}

/**
 * Starts logfleet and, unless it serves the UI itself, dev.mjs in front of it. `restart()`
 * stops the server and starts it again on the same data directory and port. `prebuiltAlerts`
 * installs the prebuilt alert rules (the alerts' tests want them; the others do not).
 */
export async function startStack({ prebuiltAlerts = false, dataDir: existingDataDir = null } = {}) {
  const dataDir = existingDataDir ?? await mkdtemp(join(tmpdir(), "logfleet-ui-test-"));
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  // Without the prebuilt alert rules unless asked: their history events would join the tests'
  // events in `logs-*` at moments the tests do not choose.
  const spawnServer = () => spawnLogged(binaryPath(), ["serve", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`], {
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn", LOGFLEET_ALERTS__PREBUILT: String(prebuiltAlerts) },
  }, "logfleet");
  let server = spawnServer();
  const children = [server];
  const stop = async () => {
    for (const child of [...children].reverse()) await stopChild(child);
    await rm(dataDir, { recursive: true, force: true });
  };
  const restart = async () => {
    await stopChild(server);
    server = spawnServer();
    children[0] = server;
    await waitFor(`${apiUrl}/`, server, "logfleet");
  };
  try {
    await waitFor(`${apiUrl}/`, server, "logfleet");
    const uiUrl = await uiFor(apiUrl, children);
    return { apiUrl, uiUrl, stop, restart, logs: () => children.map((child) => child.logs()).join("\n") };
  } catch (error) {
    const logs = children.map((child) => child.logs()).join("\n");
    await stop();
    throw new Error(`${error.message}\n${logs}`, { cause: error });
  }
}

/**
 * Runs `logfleet quickstart` (the server, the seed's three demo services and the traffic
 * generator) on a fresh data directory and free port, and returns once its traffic has run for
 * `warmupMs`; the traffic goes on until `stop()`. The demo services listen on their fixed ports
 * (4000–4002), so only one quickstart runs at a time on a machine.
 */
export async function startQuickstart({ warmupMs = 60_000, performanceInterval = 5 } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), "logfleet-ui-quickstart-"));
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const quickstart = spawnLogged(binaryPath(), [
    "quickstart", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "--duration", "900s",
    "--performance-interval", String(performanceInterval), "--log-level", "warn",
  ], { env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" } }, "logfleet quickstart");
  const children = [quickstart];
  const stop = async () => {
    for (const child of [...children].reverse()) await stopChild(child, 30_000);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${apiUrl}/`, quickstart, "logfleet quickstart");
    const startedAt = Date.now();
    const uiUrl = await uiFor(apiUrl, children);
    await sleep(Math.max(0, warmupMs - (Date.now() - startedAt)));
    if (quickstart.exitCode !== null) throw new Error(`logfleet quickstart exited with ${quickstart.exitCode}`);
    return { apiUrl, uiUrl, startedAt, stop, logs: () => children.map((child) => child.logs()).join("\n") };
  } catch (error) {
    const logs = children.map((child) => child.logs()).join("\n");
    await stop();
    throw new Error(`${error.message}\n${logs}`, { cause: error });
  }
}

/**
 * The server filled by the demo: `logfleet quickstart` (its three services and the traffic
 * generator) runs for `trafficMs` and stops by itself, then `logfleet serve` opens the same
 * data directory. The events are the demo's own, and they stay put while a test compares what
 * the page shows with what the server counts: without the prebuilt alert rules, whose
 * evaluations would go on writing to `logs-*`. `startedAt` and `endedAt` bound their timestamps.
 */
export async function startDemoStack({ trafficMs = 30_000 } = {}) {
  const dataDir = await mkdtemp(join(tmpdir(), "logfleet-ui-demo-"));
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const quickstart = spawnLogged(binaryPath(), [
    "quickstart", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "--duration", `${Math.ceil(trafficMs / 1000)}s`,
    "--performance-interval", "5", "--log-level", "warn",
  ], { env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn", LOGFLEET_ALERTS__PREBUILT: "false" } }, "logfleet quickstart");
  const exited = new Promise((resolve) => quickstart.once("exit", resolve));
  let startedAt;
  try {
    await waitFor(`${apiUrl}/`, quickstart, "logfleet quickstart");
    startedAt = Date.now();
    const code = await Promise.race([exited, sleep(trafficMs + 60_000).then(() => "timeout")]);
    if (code !== 0) throw new Error(`logfleet quickstart ended with ${code}`);
  } catch (error) {
    const logs = quickstart.logs();
    await stopChild(quickstart);
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`${error.message}\n${logs}`, { cause: error });
  }
  const endedAt = Date.now();
  const stack = await startStack({ dataDir });
  try {
    // Replayed writes become searchable over the first moments: wait until the count holds.
    let previous = -1;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      await fetch(`${stack.apiUrl}/_refresh`, { method: "POST" });
      const count = await countMatching(stack.apiUrl, { match_all: {} });
      if (count > 0 && count === previous) break;
      previous = count;
      await sleep(500);
    }
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return { ...stack, startedAt, endedAt };
}

/** The repository's prebuilt dashboards (dashboards/*.json), parsed. */
export async function prebuiltDashboards() {
  const names = (await readdir(dashboardDir)).filter((name) => name.endsWith(".json")).sort();
  return Promise.all(names.map(async (name) => JSON.parse(await readFile(join(dashboardDir, name), "utf8"))));
}

/**
 * PUTs the repository's dashboards, so the tests draw these very files whatever the binary
 * embedded when it was built.
 */
export async function installDashboards(apiUrl) {
  const dashboards = await prebuiltDashboards();
  for (const dashboard of dashboards) {
    const response = await fetch(`${apiUrl}/_logfleet/dashboards/${dashboard.id}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(dashboard) });
    if (!response.ok) throw new Error(`PUT dashboard ${dashboard.id}: HTTP ${response.status} ${await response.text()}`);
  }
  return dashboards;
}

/** POST /logs/_bulk, waiting until the events are searchable; fails on any item error. */
export async function ingest(apiUrl, events, index = "logs") {
  for (let start = 0; start < events.length; start += 1000) {
    const batch = events.slice(start, start + 1000);
    const body = batch.map((event) => `${JSON.stringify({ create: { _index: index } })}\n${JSON.stringify(event)}\n`).join("");
    const response = await fetch(`${apiUrl}/_bulk?refresh=wait_for`, { method: "POST", headers: { "content-type": "application/x-ndjson" }, body });
    const result = await response.json();
    if (!response.ok || result.errors) {
      const failed = (result.items ?? []).map((item) => Object.values(item)[0]).find((item) => item.error);
      throw new Error(`bulk failed: ${JSON.stringify(failed?.error ?? result)}`);
    }
  }
}

export async function countMatching(apiUrl, query) {
  const response = await fetch(`${apiUrl}/logs-*/_count`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
  const body = await response.json();
  return body.count;
}

/** A small deterministic generator, so every run seeds the same events. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const APPS = [
  { app_name: "user_service", service_type: "proxy_service", host: "web-1" },
  { app_name: "auth", service_type: "proxy_service", host: "web-2" },
  { app_name: "access_postgresql", service_type: "data_manager", host: "db-1" },
];
const USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];
const ENDPOINTS = [
  ["POST", "/api/signup/", "USER_SIGNUP"], ["POST", "/api/login/", "USER_LOGIN"], ["GET", "/api/users/{id}/", "USER_GET"],
  ["PUT", "/api/users/{id}/", "USER_UPDATE"], ["POST", "/api/logout/", "USER_LOGOUT"], ["GET", "/api/health/", "HEALTH"],
];
const DB_OPERATIONS = [["USER_CREATE", "create"], ["USER_READ", "read"], ["USER_UPDATE", "update"], ["SESSION_DELETE", "delete"]];

function pick(next, list) {
  return list[Math.floor(next() * list.length)];
}

function level(next, weights = { debug: 0.12, info: 0.66, warning: 0.12, error: 0.08, critical: 0.02 }) {
  let roll = next();
  for (const [name, weight] of Object.entries(weights)) {
    roll -= weight;
    if (roll <= 0) return name;
  }
  return "info";
}

/**
 * `count` events across the five log categories, spread over the last `spanMs` (ending a few
 * seconds ago), as the seed's services write them.
 */
export function seedEvents(count, { spanMs = 55 * 60_000, seed = 42 } = {}) {
  const next = random(seed);
  const now = Date.now() - 5_000;
  const events = [];
  for (let index = 0; index < count; index += 1) {
    const app = pick(next, APPS);
    const time = new Date(now - Math.floor(next() * spanMs)).toISOString();
    const requestId = `req-${(index * 7919).toString(16).padStart(8, "0")}`;
    const base = { "@timestamp": time, ...app, environment: "production", service_version: "1.4.2", request_id: requestId, trace_id: `trace-${requestId}` };
    const category = ["api_request", "api_request", "database", "inter_service", "performance", "audit"][Math.floor(next() * 6)];
    const user = pick(next, USERS);
    if (category === "api_request") {
      const [method, route, action] = pick(next, ENDPOINTS);
      const failing = next() < 0.12;
      const status = failing ? pick(next, [400, 401, 404, 500, 502, 503]) : pick(next, [200, 200, 200, 201, 204, 302]);
      const duration = Math.round((failing && status >= 500 ? 800 + next() * 2200 : 5 + next() * 180) * 10) / 10;
      events.push({
        ...base, log_category: "api_request", level: status >= 500 ? "error" : status >= 400 ? "warning" : level(next, { debug: 0.1, info: 0.9 }),
        message: `${method} ${route.replace("{id}", String(1 + Math.floor(next() * 900)))} ${status} in ${duration} ms`,
        action_type: action, http_method: method, path: route.replace("{id}", "42"), endpoint_signature: `${method} ${route}`,
        status_code: status, response_category: status >= 500 ? "server_error" : status >= 400 ? "client_error" : status >= 300 ? "redirect" : "success",
        duration_ms: duration, request_size: Math.floor(next() * 2048), response_size: Math.floor(next() * 8192),
        client_ip: `10.0.${Math.floor(next() * 4)}.${1 + Math.floor(next() * 250)}`, user_agent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", user_name: user,
      });
    } else if (category === "database") {
      const [operation, action] = pick(next, DB_OPERATIONS);
      const duration = Math.round((next() < 0.05 ? 1000 + next() * 3000 : 1 + next() * 60) * 10) / 10;
      const slow = duration > 1000;
      events.push({
        ...base, log_category: "database", app_name: "access_postgresql", service_type: "data_manager", host: "db-1",
        level: slow ? "warning" : level(next), message: `${operation} on USER took ${duration} ms${slow ? " (slow query)" : ""}`,
        db_operation: operation, db_entity: "USER", db_action: action, duration_ms: duration, rows_affected: Math.floor(next() * 5), slow_query: slow, username: user,
      });
    } else if (category === "inter_service") {
      const failed = next() < 0.08;
      const duration = Math.round((failed ? 5000 : 3 + next() * 120) * 10) / 10;
      events.push({
        ...base, log_category: "inter_service", level: failed ? "error" : "info",
        message: failed ? "call to access_postgresql timed out after 5000 ms" : `call to access_postgresql answered in ${duration} ms`,
        target_service: "access_postgresql", target_url: "http://127.0.0.1:8001/api/users/", http_method: "POST",
        status_code: failed ? 504 : 200, response_category: failed ? "server_error" : "success", duration_ms: duration, retry_count: failed ? 2 : 0,
        ...(failed ? { error_type: "timeout" } : {}),
      });
    } else if (category === "performance") {
      events.push({
        ...base, log_category: "performance", level: level(next, { debug: 0.7, info: 0.3 }), message: "performance sample",
        cpu_percent: Math.round(next() * 9000) / 100, memory_rss_bytes: 80_000_000 + Math.floor(next() * 60_000_000),
        requests_per_minute: Math.floor(next() * 600), duration_ms_p50: Math.round(next() * 400) / 10, duration_ms_p95: Math.round(next() * 2400) / 10,
        duration_ms_p99: Math.round(next() * 6000) / 10, open_connections: Math.floor(next() * 64), db_pool_in_use: Math.floor(next() * 20),
      });
    } else {
      const action = pick(next, ["LOGIN_SUCCESS", "LOGIN_SUCCESS", "LOGIN_FAILED", "LOGOUT", "USER_CREATED", "PASSWORD_CHANGED"]);
      const success = action !== "LOGIN_FAILED";
      events.push({
        ...base, log_category: "audit", app_name: "auth", service_type: "proxy_service", host: "web-2",
        level: success ? "info" : "warning", message: `${action.toLowerCase().replace(/_/g, " ")} for ${user}`,
        user_action: action, user_name: user, user_id: String(1000 + USERS.indexOf(user)), success,
        client_ip: `192.0.2.${1 + Math.floor(next() * 200)}`, session_id: `sess-${Math.floor(next() * 1e9).toString(36)}`,
        ...(success ? {} : { reason: "wrong password" }),
      });
    }
  }
  return events;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

/**
 * A page that records every console error and warning, page error, failed request and
 * dialog; `problems` lists them, and a test ends by asserting it is empty.
 */
export async function openPage(browser, { colorScheme = "light", width = 1440, height = 900, timezoneId = "UTC" } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, colorScheme, timezoneId, locale: "en-US" });
  const page = await context.newPage();
  const problems = [];
  const dialogs = [];
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("dialog", async (dialog) => {
    dialogs.push(dialog.message());
    problems.push(`dialog opened: ${dialog.type()} ${dialog.message()}`);
    await dialog.dismiss();
  });
  return { context, page, problems, dialogs };
}

/**
 * Runs `body` with a fresh page and fails if the page reported any problem but those `allow`
 * expects (Chromium logs every non-2xx answer, such as the 400 of an invalid query).
 */
export async function withCheckedPage(browser, { allow = [], ...options }, body) {
  const opened = await openPage(browser, options);
  try {
    await body(opened.page, opened);
    const unexpected = opened.problems.filter((problem) => !allow.some((pattern) => pattern.test(problem)));
    assert.deepEqual(unexpected, [], "the page reported problems");
  } finally {
    await opened.context.close();
  }
}

/** Waits until the panel's data-state is one of `states`. */
export async function waitForPanel(page, title, states = ["ready"], timeout = 30_000) {
  const selector = states.map((state) => `[data-panel="${title}"][data-state="${state}"]`).join(", ");
  await page.waitForSelector(selector, { timeout });
}

export async function screenshot(page, name) {
  await mkdir(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`) });
}

/** The explorer URL for a view (parameters as the UI writes them). */
export function explorerUrl(uiUrl, parameters = {}) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries({ index: "logs-*", from: "now-1h", to: "now", ...parameters })) {
    for (const one of Array.isArray(value) ? value : [value]) search.append(name, one);
  }
  return `${uiUrl}explorer?${search}`;
}
