// The explorer's speed, measured in a real browser against the real binary:
//
//   - the first load's JavaScript: every script the browser fetched on a cold first visit
//     until the table and the histogram were drawn (entry, module preloads and lazy chunks
//     alike), as the binary served it to Chromium and as its gzip sibling in dist/ weighs;
//   - first events on screen after navigation, with --events events in logs-* over the last
//     hour (time from navigation start to the first table row, and to both the table and the
//     histogram being drawn);
//   - a query over all of them: from pressing Enter to the table and histogram drawn;
//   - live tail: from an event's acknowledgement to its row on screen.
//
//   LOGFLEET_BIN=target/release/logfleet node bench/explorer.mjs --events 1000000 --runs 5
//
// Each figure is the median of --runs warm runs; cold first loads (each in a fresh browser
// context, so nothing is cached or compiled) are the median of --cold-runs runs and reported
// apart. Events are loaded through _bulk by four connections; the views are measured once the
// server is idle again (its merges after the load done).

import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { binaryPath, explorerUrl, freePort, launchBrowser, uiRoot } from "../tests/harness.mjs";

const { values: options } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    runs: { type: "string", default: "5" },
    "cold-runs": { type: "string", default: "3" },
    query: { type: "string", default: "level:error AND app_name:auth" },
  },
});
const eventCount = Number(options.events);
const runs = Number(options.runs);
const coldRuns = Number(options["cold-runs"]);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const progress = (message) => process.stderr.write(`bench: ${message}\n`);

/**
 * The scripts a page fetched so far, from its resource timings: each one's bytes on the wire
 * (whatever encoding the browser was sent) and decoded.
 */
function fetchedScripts() {
  return performance.getEntriesByType("resource")
    .filter((entry) => new URL(entry.name).pathname.endsWith(".js"))
    .map((entry) => ({ path: new URL(entry.name).pathname, wire: entry.encodedBodySize, raw: entry.decodedBodySize }));
}

/** The requests a page made so far, in order: path, start and end (ms after navigation start). */
function requestTimeline() {
  return performance.getEntriesByType("resource").map((entry) => {
    const url = new URL(entry.name);
    return { path: `${url.pathname}${url.search}`.slice(0, 80), start: Math.round(entry.startTime), end: Math.round(entry.responseEnd) };
  });
}

/** Totals of `scripts` (from fetchedScripts), with each one's gzip size from dist/. */
async function javaScriptTotals(scripts) {
  let gzipped = 0;
  for (const { path } of scripts) {
    const file = join(process.env.LOGFLEET_UI_DIR ?? join(uiRoot, "dist"), "assets", basename(path));
    // The pre-compressed sibling the binary serves to gzip clients; compressed here if absent.
    gzipped += await readFile(`${file}.gz`).then((bytes) => bytes.length, async () => gzipSync(await readFile(file), { level: 9 }).length);
  }
  return {
    files: scripts.length,
    raw: scripts.reduce((sum, script) => sum + script.raw, 0),
    wire: scripts.reduce((sum, script) => sum + script.wire, 0),
    gzipped,
  };
}

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

const APPS = ["user_service", "auth", "access_postgresql"];
const LEVELS = ["info", "info", "info", "info", "debug", "warning", "error"];

/** Loads `count` events spread over the last hour, four bodies in flight at a time. */
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
        const app = APPS[number % 3];
        const level = LEVELS[(number * 13 + Math.floor(number / 7)) % LEVELS.length];
        const status = level === "error" ? 500 : 200;
        const timestamp = new Date(end - span + Math.floor((number / count) * span)).toISOString();
        lines.push('{"create":{}}');
        lines.push(JSON.stringify({
          "@timestamp": timestamp, log_category: "api_request", level, app_name: app,
          message: `GET /api/users/${number % 997}/ ${status} in ${(number % 300) / 2} ms`,
          http_method: "GET", path: `/api/users/${number % 997}/`, status_code: status,
          duration_ms: (number % 300) / 2, user_name: `user${number % 50}`,
        }));
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

/** Records, in the page, when rows and panel states appear and when Enter is pressed. */
function recorder() {
  window.__marks = { panels: [] };
  const observer = new MutationObserver(() => {
    if (window.__marks.firstRow === undefined && document.querySelector("[data-panel=Events] tr[data-row]")) {
      window.__marks.firstRow = performance.now();
    }
    for (const panel of document.querySelectorAll("[data-panel][data-state]")) {
      const name = panel.getAttribute("data-panel");
      const state = panel.getAttribute("data-state");
      const last = window.__marks.panels.findLast((entry) => entry.name === name);
      if (!last || last.state !== state) window.__marks.panels.push({ name, state, at: performance.now() });
    }
    const tail = window.__marks.tailText;
    if (tail && window.__marks.tailSeen === undefined && document.querySelector("[data-panel=Events] tbody")?.textContent?.includes(tail)) {
      window.__marks.tailSeen = Date.now();
    }
  });
  document.addEventListener("DOMContentLoaded", () => {
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"], characterData: true });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter") window.__marks.enter = performance.now();
  }, true);
}

/** When both the table and the histogram became ready after `since`. */
function drawnAfter(marks, since) {
  const readyAt = (name) => marks.panels.find((entry) => entry.name === name && entry.state === "ready" && entry.at >= since)?.at;
  const events = readyAt("Events");
  const histogram = readyAt("Histogram");
  return events === undefined || histogram === undefined ? undefined : Math.max(events, histogram) - since;
}

async function measure(browser, uiUrl, apiUrl, cold) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, timezoneId: "UTC" });
  await context.addInitScript(recorder);
  const page = await context.newPage();
  if (!cold) {
    // Warm the HTTP cache with one visit, as a returning user has it.
    await page.goto(explorerUrl(uiUrl));
    await page.waitForSelector("[data-panel=Events][data-state=ready]");
  }
  await page.goto(explorerUrl(uiUrl));
  await page.waitForSelector("[data-panel=Events][data-state=ready]", { timeout: 60_000 });
  await page.waitForSelector("[data-panel=Histogram][data-state=ready]", { timeout: 60_000 });
  const load = await page.evaluate(() => window.__marks);
  const result = { firstRow: load.firstRow, drawn: drawnAfter(load, 0), scripts: await page.evaluate(fetchedScripts), timeline: await page.evaluate(requestTimeline) };

  const input = page.getByLabel("Query (Lucene syntax)");
  await input.fill(options.query);
  await input.press("Enter");
  await page.waitForFunction(() => {
    const marks = window.__marks;
    const after = (name) => marks.panels.some((entry) => entry.name === name && entry.state === "ready" && entry.at > marks.enter);
    return marks.enter !== undefined && after("Events") && after("Histogram");
  }, undefined, { timeout: 60_000 });
  const queried = await page.evaluate(() => window.__marks);
  result.query = drawnAfter(queried, queried.enter);

  await page.getByTestId("live-tail").click();
  await page.getByTestId("tail-banner").waitFor();
  const marker = `tailmark${Date.now()}`;
  await page.evaluate((text) => { window.__marks.tailText = text; }, marker);
  const response = await fetch(`${apiUrl}/logs/_bulk`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson" },
    body: `{"create":{}}\n${JSON.stringify({ "@timestamp": new Date().toISOString(), log_category: "api_request", level: "error", app_name: "auth", message: marker })}\n`,
  });
  await response.json();
  const acknowledged = Date.now();
  await page.waitForFunction(() => window.__marks.tailSeen !== undefined, undefined, { timeout: 30_000 });
  result.tail = (await page.evaluate(() => window.__marks.tailSeen)) - acknowledged;
  await context.close();
  return result;
}

/** CPU time (ms) the process has used so far, from /proc (Linux). */
async function cpuTime(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1].split(" ");
  // utime and stime, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Waits until the server is idle — the merges that follow a large load done — so that the
 * views are measured on a server at rest, as a user opening the explorer finds it.
 */
async function settle(pid) {
  const started = Date.now();
  let last = await cpuTime(pid);
  while (Date.now() - started < 180_000) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = await cpuTime(pid);
    if (now - last < 30) break;
    last = now;
  }
  progress(`server idle ${((Date.now() - started) / 1000).toFixed(0)} s after the load`);
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
    await settle(server.pid);
    const browser = await launchBrowser();
    try {
      const uiUrl = `${apiUrl}/_ui/`;
      // Each cold run is a fresh browser context: empty HTTP cache, no compiled code kept.
      const colds = [];
      for (let run = 0; run < coldRuns; run += 1) {
        colds.push(await measure(browser, uiUrl, apiUrl, true));
        progress(`cold run ${run + 1}/${coldRuns}: ${JSON.stringify({ firstRow: colds.at(-1).firstRow, drawn: colds.at(-1).drawn })}`);
      }
      // The median cold run's figures and timeline are reported.
      const cold = [...colds].sort((a, b) => a.firstRow - b.firstRow)[Math.floor(colds.length / 2)];
      const javaScript = await javaScriptTotals(cold.scripts);
      const warm = [];
      for (let run = 0; run < runs; run += 1) {
        warm.push(await measure(browser, uiUrl, apiUrl, false));
        const { firstRow, drawn, query, tail } = warm.at(-1);
        progress(`run ${run + 1}/${runs}: ${JSON.stringify({ firstRow, drawn, query, tail })}`);
      }
      const figure = (values) => `${Math.round(median(values))} ms`;
      const lines = [
        `events in logs-* over the last hour: ${eventCount.toLocaleString("en")}`,
        `first-load JavaScript (${javaScript.files} files fetched): ${(javaScript.gzipped / 1024).toFixed(1)} KB gzipped, ` +
          `${(javaScript.wire / 1024).toFixed(1)} KB on the wire to Chromium, ${(javaScript.raw / 1024).toFixed(1)} KB raw`,
        ...cold.scripts.map((script) => `  ${basename(script.path)}: ${(script.wire / 1024).toFixed(1)} KB on the wire, ${(script.raw / 1024).toFixed(1)} KB raw`),
        `first events on screen, cold cache (median of ${coldRuns}): ${Math.round(cold.firstRow)} ms (table and histogram drawn: ${Math.round(cold.drawn)} ms)`,
        `  each cold run: ${colds.map((run) => `${Math.round(run.firstRow)}`).join(", ")} ms`,
        "  the median run's requests (start → end, ms after navigation start):",
        ...cold.timeline.map((request) => `  ${String(request.start).padStart(5)} → ${String(request.end).padStart(5)}  ${request.path}`),
        `first events on screen, warm (median of ${runs}): ${figure(warm.map((run) => run.firstRow))} (drawn: ${figure(warm.map((run) => run.drawn))})`,
        `query "${options.query}" to table and histogram drawn (median): ${figure(warm.map((run) => run.query))}`,
        `live tail, acknowledged to on screen (median): ${figure(warm.map((run) => run.tail))}`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    } finally {
      await browser.close();
    }
  } finally {
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
