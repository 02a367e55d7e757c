// The dashboards' speed, measured in a real browser against the real binary: for each of the
// four prebuilt dashboards, with --events events of the five categories over the last hour
// (shaped as the demo services write them),
//
//   - cold: navigation start to every panel out of `loading`, on the server's first sight of
//     the dashboard's searches (its request cache empty for them);
//   - warm: the same on later visits (median of --runs);
//   - refresh: from the refresh button to the new answers drawn, with unchanged data (what an
//     auto-refresh costs; median of --runs);
//   - the slowest panel: the panel whose search the server took longest on (its `took`).
//
//   LOGFLEET_BIN=target/release/logfleet node bench/dashboards.mjs --events 1000000 --runs 5
//
// Events are loaded through _bulk by four connections; the dashboards are PUT from the
// repository's dashboards/ folder.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { binaryPath, freePort, installDashboards, launchBrowser } from "../tests/harness.mjs";

const { values: options } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    runs: { type: "string", default: "5" },
  },
});
const eventCount = Number(options.events);
const runs = Number(options.runs);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const progress = (message) => process.stderr.write(`bench: ${message}\n`);

async function waitForServer(url) {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer`);
}

const SERVICES = [
  { app_name: "user_service", service_type: "proxy_service" },
  { app_name: "auth", service_type: "proxy_service" },
  { app_name: "access_postgresql", service_type: "data_manager" },
];
const ENDPOINTS = ["GET /api/profile/{user_id}/", "PUT /api/profile/{user_id}/", "POST /api/login/", "POST /api/logout/", "POST /api/signup/", "GET /api/recommendations/{user_id}/"];
const ACTIONS = ["PROFILE_UPDATED", "LOGIN_SUCCESS", "LOGIN_SUCCESS", "LOGOUT", "ACCESS_DENIED", "LOGIN_FAILED", "USER_CREATED"];
const COUNTRIES = [["US", "United States"], ["DE", "Germany"], ["FR", "France"], ["BR", "Brazil"], ["JP", "Japan"], ["IN", "India"]];

/** The `number`th event of `count`, at its place in the last hour, as the demo writes it. */
function event(number, count, end, span) {
  const service = SERVICES[number % 3];
  const endpoint = ENDPOINTS[(number * 7) % ENDPOINTS.length];
  const user = `user${number % 200}`;
  const [country, countryName] = COUNTRIES[(number * 11) % COUNTRIES.length];
  const base = {
    "@timestamp": new Date(end - span + Math.floor((number / count) * span)).toISOString(),
    ...service, environment: "demo", host: "vm", service_version: "0.1.0", endpoint_signature: endpoint,
    request_id: `r${number}`, trace_id: `t${number >> 2}`,
  };
  const duration = (number * 37) % 97 === 0 ? 1200 + (number % 900) : 1 + ((number * 13) % 250) / 3;
  switch (number % 10) {
    case 0: case 1: case 2: case 3: {
      const status = number % 53 === 0 ? 500 : number % 17 === 0 ? 403 : 200;
      return {
        ...base, log_category: "api_request", level: status >= 500 ? "error" : status >= 400 ? "warning" : "info", message: `${endpoint} ${status}`,
        http_method: endpoint.split(" ")[0], status_code: status, response_category: status >= 500 ? "server_error" : status >= 400 ? "client_error" : "success",
        duration_ms: duration, user_id: String(number % 200), user_name: user, client_ip: `81.2.${number % 200}.${number % 250}`,
        geo: { country_iso_code: country, country_name: countryName },
      };
    }
    case 4: case 5:
      return {
        ...base, log_category: "database", app_name: "access_postgresql", service_type: "data_manager", level: duration > 1000 ? "warning" : "info",
        message: "database PROFILE_READ on USER", db_operation: ["PROFILE_READ", "PROFILE_UPDATE", "SESSION_CREATE"][number % 3], db_entity: "USER", db_action: "read",
        duration_ms: duration, rows_affected: 1, slow_query: duration > 1000, ...(number % 211 === 0 ? { db_error: "pool timed out", level: "error" } : {}),
      };
    case 6: case 7: {
      const caller = number % 2 === 0 ? "user_service" : "auth";
      const refused = caller === "user_service" && number % 29 === 0;
      return {
        ...base, log_category: "inter_service", app_name: caller, service_type: "proxy_service", level: refused ? "error" : "info",
        message: `call to ${refused ? "recommendation_service" : "access_postgresql"}`, target_service: refused ? "recommendation_service" : "access_postgresql",
        http_method: "GET", duration_ms: duration, retry_count: 0,
        ...(refused ? { error_type: "connection_refused" } : { status_code: 200, response_category: "success" }),
      };
    }
    case 8:
      return {
        ...base, log_category: "performance", level: "info", message: "performance sample", cpu_percent: (number % 400) / 10,
        memory_rss_bytes: 26_000_000 + (number % 1000) * 20_000, open_connections: number % 4, requests_per_minute: 300 + (number % 500),
        duration_ms_p50: 2 + (number % 20), duration_ms_p95: 20 + (number % 200), duration_ms_p99: 40 + (number % 900),
      };
    default: {
      const action = ACTIONS[(number * 3) % ACTIONS.length];
      return {
        ...base, log_category: "audit", app_name: "access_postgresql", service_type: "data_manager", level: action === "LOGIN_FAILED" ? "warning" : "info",
        message: `authentication ${action}`, user_action: action, success: action !== "LOGIN_FAILED", user_id: String(number % 200), user_name: user,
        username: user, client_ip: `81.2.${number % 200}.${number % 250}`, session_id: `s${number}`,
        ...(action === "LOGOUT" ? { session_duration_ms: 100 + (number % 5000) } : {}),
      };
    }
  }
}

async function load(apiUrl, count) {
  const batch = 5_000;
  const end = Date.now() - 2_000;
  const span = 3_590_000;
  let next = 0;
  let done = 0;
  const started = Date.now();
  const worker = async () => {
    for (;;) {
      const first = next;
      next += batch;
      if (first >= count) return;
      const lines = [];
      for (let number = first; number < Math.min(first + batch, count); number += 1) {
        lines.push('{"create":{}}', JSON.stringify(event(number, count, end, span)));
      }
      const response = await fetch(`${apiUrl}/logs/_bulk`, {
        method: "POST", headers: { "content-type": "application/x-ndjson" }, body: `${lines.join("\n")}\n`,
      });
      const result = await response.json();
      if (!response.ok || result.errors) throw new Error(`bulk failed: ${JSON.stringify(result).slice(0, 400)}`);
      done += lines.length / 2;
      if (done % 100_000 < batch) progress(`loaded ${done.toLocaleString("en")} events (${Math.round(done / ((Date.now() - started) / 1000)).toLocaleString("en")}/s)`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await fetch(`${apiUrl}/_refresh`, { method: "POST" });
}

const allSettled = () => {
  const panels = [...document.querySelectorAll(".dashboard-grid .dash-panel")];
  return panels.length > 0 && panels.every((panel) => panel.dataset.state !== "loading");
};

/** Opens a dashboard; the time to every panel settled, and each panel's server time. */
async function open(page, uiUrl, id) {
  await page.goto(`${uiUrl}dashboards/${id}`);
  await page.waitForFunction(allSettled, undefined, { timeout: 120_000 });
  return page.evaluate(() => {
    const navigation = performance.getEntriesByType("navigation")[0];
    const took = [...document.querySelectorAll(".dashboard-grid .dash-panel")].map((panel) => ({
      title: panel.dataset.panel,
      state: panel.dataset.state,
      took: Number(panel.querySelector(".panel-took")?.textContent?.replace(/[^\d]/g, "") ?? Number.NaN),
    }));
    return { drawn: performance.now() - (navigation?.startTime ?? 0), took };
  });
}

/** Clicks refresh and waits for its answers to be drawn; the time it took. */
async function refresh(page) {
  return page.evaluate(async () => {
    const button = document.querySelector('.dashboard-toolbar button[aria-label="Refresh"]');
    const started = performance.now();
    const answered = () => performance.getEntriesByType("resource").some((entry) => entry.name.endsWith("/_msearch") && entry.startTime >= started);
    const spinnerShown = () => document.querySelector('.dashboard-toolbar .spinner[aria-label="Refreshing"]') !== null;
    button.click();
    // Drawn: the _msearch answered, the refresh's spinner gone, and the frame after that.
    await new Promise((resolve) => {
      const check = () => (answered() && !spinnerShown() ? requestAnimationFrame(resolve) : requestAnimationFrame(check));
      requestAnimationFrame(check);
    });
    return performance.now() - started;
  });
}

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), "logfleet-ui-bench-"));
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  const server = spawn(binaryPath(), ["serve", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "--log-level", "warn"], { stdio: "inherit" });
  try {
    await waitForServer(`${apiUrl}/`);
    progress(`loading ${eventCount.toLocaleString("en")} events`);
    await load(apiUrl, eventCount);
    const dashboards = await installDashboards(apiUrl);
    const browser = await launchBrowser();
    const uiUrl = `${apiUrl}/_ui/`;
    const lines = ["", `| dashboard | panels | cold | warm (median) | refresh, unchanged data (median) | slowest panel (server time, cold) |`, "|---|---|---|---|---|---|"];
    try {
      for (const dashboard of dashboards) {
        const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, timezoneId: "UTC" });
        const page = await context.newPage();
        const cold = await open(page, uiUrl, dashboard.id);
        const warm = [];
        const refreshes = [];
        for (let run = 0; run < runs; run += 1) {
          warm.push((await open(page, uiUrl, dashboard.id)).drawn);
          refreshes.push(await refresh(page));
        }
        await context.close();
        const slowest = cold.took.filter((panel) => Number.isFinite(panel.took)).sort((a, b) => b.took - a.took)[0];
        const notReady = cold.took.filter((panel) => panel.state !== "ready").map((panel) => `${panel.title}: ${panel.state}`);
        progress(`${dashboard.id}: cold ${Math.round(cold.drawn)} ms, warm ${warm.map(Math.round).join(", ")}, refresh ${refreshes.map(Math.round).join(", ")}${notReady.length > 0 ? `; not ready: ${notReady.join(", ")}` : ""}`);
        lines.push(`| ${dashboard.title} | ${dashboard.panels.length} | ${Math.round(cold.drawn)} ms | ${Math.round(median(warm))} ms | ${Math.round(median(refreshes))} ms | ${slowest ? `${slowest.title}, ${slowest.took} ms` : "—"} |`);
      }
    } finally {
      await browser.close();
    }
    console.log(lines.join("\n"));
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
