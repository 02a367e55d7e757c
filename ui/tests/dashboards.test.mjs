// Browser tests of the dashboards against the real logfleet binary (LOGFLEET_BIN): the four
// prebuilt dashboards over the quickstart's own traffic (its three demo services), then
// dashboards as data, the map, exports and hostile values over events written with _bulk.
// Every test fails on a console error or warning, a page error or a dialog; waits are on the
// panels' data-state, never on fixed delays.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import {
  ingest, installDashboards, launchBrowser, prebuiltDashboards, screenshot, seedEvents, startQuickstart, startStack, waitForPanel, withCheckedPage,
} from "./harness.mjs";

let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

const withPage = (options, body) => withCheckedPage(browser, options, body);

/** Opens a dashboard and waits until no panel is loading; returns each panel's title and state. */
async function openDashboard(page, uiUrl, id, parameters = {}) {
  const search = new URLSearchParams(parameters).toString();
  await page.goto(`${uiUrl}dashboards/${id}${search ? `?${search}` : ""}`);
  return settled(page);
}

async function settled(page) {
  await page.waitForSelector(".dash-panel[data-state]", { timeout: 30_000 });
  await page.waitForFunction(() => [...document.querySelectorAll(".dashboard-grid .dash-panel")].every((panel) => panel.dataset.state !== "loading"), null, { timeout: 30_000 });
  return page.$$eval(".dashboard-grid .dash-panel", (panels) => panels.map((panel) => ({
    title: panel.dataset.panel,
    state: panel.dataset.state,
    error: panel.querySelector(".error-message")?.textContent ?? "",
  })));
}

const panel = (page, title) => page.locator(`.dash-panel[data-panel="${title}"]`);

describe("prebuilt dashboards over the quickstart's traffic", () => {
  let quickstart;
  let dashboards;
  let range;

  before(async () => {
    quickstart = await startQuickstart({ warmupMs: Number(process.env.LOGFLEET_QUICKSTART_WARMUP_MS ?? 60_000) });
    dashboards = await installDashboards(quickstart.apiUrl);
    // From the quickstart's start, so the charts span its traffic rather than an empty hour.
    range = { from: new Date(quickstart.startedAt - 5_000).toISOString(), to: "now" };
  });

  after(async () => {
    await quickstart?.stop();
  });

  test("each dashboard opens with every panel ready and showing data; screenshots", async () => {
    assert.deepEqual(dashboards.map((dashboard) => dashboard.id).sort(), ["api-performance", "error-monitoring", "service-health", "user-activity"]);
    for (const dashboard of dashboards) {
      await withPage({}, async (page) => {
        const searches = [];
        page.on("request", (request) => {
          const path = new URL(request.url()).pathname;
          if (path.endsWith("/_msearch") || path.endsWith("/_search")) searches.push(path);
        });
        const states = await openDashboard(page, quickstart.uiUrl, dashboard.id, range);
        assert.equal(states.length, dashboard.panels.length, `${dashboard.id}: every panel is drawn`);
        // Every panel has data: the demo injects database faults, and the quickstart fetches
        // a GeoIP database so that client addresses get countries.
        for (const one of states) {
          assert.equal(one.state, "ready", `${dashboard.id} / ${one.title}: ${one.state} ${one.error}`);
        }
        // One round trip for every panel, the variables and the annotations.
        assert.deepEqual(searches, ["/_msearch"], `${dashboard.id}: searches sent`);
        // Charts draw: canvases for time series and ECharts, rows for tables.
        for (const one of dashboard.panels) {
          const body = panel(page, one.title);
          if (one.type === "timeseries" || one.type === "graph" || one.type === "heatmap" || one.type === "pie" || one.type === "distribution") {
            assert.ok(await body.locator("canvas").count() > 0, `${one.title} draws`);
          }
          if (["table", "edges", "bars"].includes(one.type)) {
            assert.ok(await body.locator("[data-row]").count() > 0, `${one.title} has rows`);
          }
        }
        // The whole dashboard in one picture: the window as tall as its grid.
        const height = await page.evaluate(() => Math.ceil(document.querySelector(".dashboard-grid").getBoundingClientRect().bottom + 24));
        await page.setViewportSize({ width: 1440, height: Math.max(900, height) });
        await settled(page);
        await page.mouse.move(0, 0);
        await screenshot(page, `dashboard-${dashboard.id}`);
      });
    }
  });

  test("the dependency map joins the demo's three services", async () => {
    await withPage({}, async (page) => {
      await openDashboard(page, quickstart.uiUrl, "service-health", range);
      await waitForPanel(page, "Service dependency map");
      const edges = await panel(page, "Service dependency health").locator("tbody tr[data-row]").evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll("td")].slice(0, 2).map((cell) => cell.textContent)));
      const services = new Set(edges.flat());
      for (const service of ["access_postgresql", "user_service", "auth"]) assert.ok(services.has(service), `${service} in ${[...services].join(", ")}`);
      assert.ok(edges.some(([caller, callee]) => caller === "auth" && callee === "access_postgresql"), "auth calls access_postgresql");
      assert.ok(edges.some(([caller, callee]) => caller === "user_service" && callee === "access_postgresql"), "user_service calls access_postgresql");
    });
  });

  test("inspect shows the panel's query and the server's answer, as JSON", async () => {
    await withPage({}, async (page) => {
      await openDashboard(page, quickstart.uiUrl, "api-performance", range);
      await panel(page, "Average response time").getByTestId("panel-inspect").click();
      const request = page.getByTestId("inspect-request");
      await request.waitFor();
      assert.match(await request.locator(".inspect-path").innerText(), /^POST \/logs-\*\/_search$/);
      const body = JSON.parse(await request.locator(".json-block").innerText());
      // The seed's API Performance query, with the dashboard's time range added.
      assert.deepEqual(body.query.bool.must[0], { bool: { must: [{ term: { log_category: "api_request" } }, { exists: { field: "duration_ms" } }] } });
      assert.ok(body.query.bool.filter.some((clause) => clause.range?.["@timestamp"]), "the time range is a filter");
      assert.deepEqual(body.aggs.current.aggs.m0, { avg: { field: "duration_ms" } });
      await page.getByRole("tab", { name: "Response" }).click();
      const response = JSON.parse(await page.getByTestId("inspect-response").locator(".json-block").innerText());
      assert.ok(response.hits.total.value > 0, "the response is the server's");
      await page.keyboard.press("Escape");
      await page.getByTestId("inspect-dialog").waitFor({ state: "detached" });
    });
  });

  test("open in explorer keeps the query, the filters and the time range", async () => {
    await withPage({}, async (page) => {
      await openDashboard(page, quickstart.uiUrl, "error-monitoring", { ...range, "var-service": "auth" });
      await panel(page, "Failed authentication attempts").getByTestId("panel-explore").click();
      await page.waitForURL(/\/_ui\/explorer\?/);
      const url = new URL(page.url());
      assert.equal(url.searchParams.get("from"), range.from);
      assert.equal(url.searchParams.get("to"), "now");
      assert.equal(url.searchParams.get("q"), '((log_category:"audit") AND (user_action:"LOGIN_FAILED")) AND app_name:"auth"');
      await waitForPanel(page, "Events", ["ready", "empty"]);
      const total = Number((await page.getByTestId("hits-count").innerText()).replace(/[^\d]/g, ""));
      const expected = await fetch(`${quickstart.apiUrl}/logs-*/_count`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: { bool: { filter: [{ term: { user_action: "LOGIN_FAILED" } }, { term: { app_name: "auth" } }, { range: { "@timestamp": { gte: range.from } } }] } } }),
      }).then((response) => response.json());
      // New events may arrive between the two counts.
      assert.ok(total <= expected.count && total >= 0, `explorer ${total}, server ${expected.count}`);
    });
  });

  test("a click on a bar or a table cell filters the dashboard, and the filter is in the URL", async () => {
    await withPage({}, async (page) => {
      await openDashboard(page, quickstart.uiUrl, "service-health", range);
      await panel(page, "Service dependency health").locator("tbody tr[data-row] td button", { hasText: /^auth$/ }).first().click();
      await page.waitForFunction(() => new URL(location.href).searchParams.getAll("filter").includes("app_name:auth"));
      const states = await settled(page);
      assert.ok(states.every((one) => one.state === "ready" || one.state === "empty"), JSON.stringify(states));
      const callers = await panel(page, "Service dependency health").locator("tbody tr[data-row] td:first-child").allInnerTexts();
      assert.deepEqual([...new Set(callers)], ["auth"]);
      assert.equal(await page.getByTestId("dashboard-filter").count(), 1);
      await page.getByTestId("dashboard-filter").getByRole("button").click();
      await page.waitForFunction(() => new URL(location.href).searchParams.getAll("filter").length === 0);
      await settled(page);
    });
  });

  test("a click on a node of the dependency map filters the dashboard to that service", async () => {
    await withPage({}, async (page) => {
      await openDashboard(page, quickstart.uiUrl, "service-health", range);
      const canvas = panel(page, "Service dependency map").locator("canvas").first();
      const box = await canvas.boundingBox();
      // Callers are laid out in the left column, sorted by name, from 30 px below the top:
      // auth is the first, at the column's x (15% of the width, at most 120 px).
      await page.mouse.move(box.x + Math.min(120, box.width * 0.15), box.y + 30);
      const tooltip = panel(page, "Service dependency map").getByTestId("chart-tooltip");
      await tooltip.waitFor();
      assert.match(await tooltip.innerText(), /^auth\nCalls in and out\s+[\d,]+/);
      await page.mouse.click(box.x + Math.min(120, box.width * 0.15), box.y + 30);
      await page.waitForFunction(() => new URL(location.href).searchParams.getAll("filter").includes("app_name|target_service:auth"));
      await settled(page);
      const edges = await panel(page, "Service dependency health").locator("tbody tr[data-row]").evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll("td")].slice(0, 2).map((cell) => cell.textContent).join(" → ")));
      assert.deepEqual(edges, ["auth → access_postgresql"]);
    });
  });

  test("hovering a time chart shows every series' exact value", async () => {
    await withPage({}, async (page) => {
      await openDashboard(page, quickstart.uiUrl, "api-performance", range);
      const chart = panel(page, "Throughput (requests per minute)");
      await chart.scrollIntoViewIfNeeded();
      const box = await chart.locator(".u-over").boundingBox();
      await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2);
      const tooltip = chart.getByTestId("chart-tooltip");
      await tooltip.waitFor();
      const rows = await tooltip.locator(".tooltip-row").allInnerTexts();
      assert.ok(rows.length >= 3, rows.join(" | "));
      for (const row of rows) assert.match(row, /^(access_postgresql|auth|user_service)\s+[\d,.]+\/min$/);
    });
  });

  test("variables are filled from the data, and choosing one filters every panel", async () => {
    await withPage({}, async (page) => {
      await openDashboard(page, quickstart.uiUrl, "api-performance", range);
      const services = await page.locator('select[data-variable="service"] option').allInnerTexts();
      for (const service of ["All", "access_postgresql", "auth", "user_service"]) assert.ok(services.includes(service), services.join(","));
      await page.locator('select[data-variable="service"]').selectOption("auth");
      await page.waitForFunction(() => new URL(location.href).searchParams.get("var-service") === "auth");
      const states = await settled(page);
      assert.ok(states.every((one) => one.state === "ready" || one.state === "empty"), JSON.stringify(states));
      await page.locator('select[data-variable="service"]').selectOption("");
      await page.waitForFunction(() => !new URL(location.href).searchParams.has("var-service"));
    });
  });

  test("auto-refresh is in the URL and searches again without leaving the panels' ready state", async () => {
    await withPage({}, async (page) => {
      await openDashboard(page, quickstart.uiUrl, "service-health", range);
      let searches = 0;
      page.on("request", (request) => { if (new URL(request.url()).pathname === "/_msearch") searches += 1; });
      await page.getByTestId("auto-refresh").selectOption("5s");
      await page.waitForFunction(() => new URL(location.href).searchParams.get("refresh") === "5s");
      await page.waitForResponse((response) => new URL(response.url()).pathname === "/_msearch", { timeout: 15_000 });
      assert.ok(searches >= 1);
      assert.equal(await page.locator('.dashboard-grid .dash-panel[data-state="loading"]').count(), 0);
      await page.getByTestId("auto-refresh").selectOption("off");
    });
  });
});

/** Seed-like events, plus requests from five countries (as the geoip processor tags them). */
function geoEvents() {
  const countries = [["US", "United States", 40], ["DE", "Germany", 25], ["FR", "France", 12], ["JP", "Japan", 7], ["BR", "Brazil", 3]];
  const now = Date.now() - 10_000;
  return countries.flatMap(([code, name, count], country) => Array.from({ length: count }, (_, index) => ({
    "@timestamp": new Date(now - (index * 37_000 + country * 1000) % (50 * 60_000)).toISOString(),
    log_category: "api_request", level: "info", message: "GET /api/profile/7/ 200", app_name: "user_service", service_type: "proxy_service",
    environment: "production", endpoint_signature: "GET /api/profile/{user_id}/", http_method: "GET", status_code: 200, response_category: "success",
    duration_ms: 12.5, client_ip: `203.0.113.${country + 1}`, geo: { country_iso_code: code, country_name: name },
  })));
}

const HOSTILE = [
  "<img src=x onerror=\"window.__xss=1\">",
  "\"><script>window.__xss=2</script>",
  "<svg onload=window.__xss=3>",
  "{a|x}javascript:alert(1)",
];

/** Events of every category whose labels are hostile strings. */
function hostileEvents() {
  const now = Date.now() - 20_000;
  return HOSTILE.flatMap((value, position) => {
    const base = { "@timestamp": new Date(now - position * 60_000).toISOString(), environment: "production", app_name: value, service_type: "proxy_service", level: "error", message: value };
    return [
      { ...base, log_category: "api_request", endpoint_signature: value, status_code: 500, response_category: "server_error", duration_ms: 1500, user_name: value, client_ip: "198.51.100.7", geo: { country_iso_code: "CA", country_name: value } },
      { ...base, log_category: "audit", user_action: value, user_id: value, user_name: value, username: value, success: false },
      { ...base, log_category: "audit", user_action: "LOGIN_FAILED", user_id: "1", username: value, client_ip: "198.51.100.7", success: false },
      { ...base, log_category: "inter_service", target_service: value, status_code: 503, response_category: "server_error", duration_ms: 900 },
      { ...base, log_category: "database", db_operation: value, db_entity: "USER", db_action: "read", duration_ms: 2500, slow_query: true, db_error: value },
    ];
  });
}

describe("dashboards as data", () => {
  let stack;

  before(async () => {
    stack = await startStack();
    await ingest(stack.apiUrl, [...seedEvents(1200), ...geoEvents()]);
    await installDashboards(stack.apiUrl);
  });

  after(async () => {
    await stack?.stop();
  });

  test("the map shades the countries of the events and lists them", async () => {
    await withPage({}, async (page) => {
      await openDashboard(page, stack.uiUrl, "user-activity");
      await waitForPanel(page, "Geographic distribution");
      const map = panel(page, "Geographic distribution");
      assert.ok(await map.locator("canvas").count() > 0, "the map draws");
      const rows = await map.locator("tbody tr[data-row]").evaluateAll((cells) => cells.map((row) => [...row.querySelectorAll("td")].map((cell) => cell.textContent)));
      assert.deepEqual(rows.map(([name, code, count]) => [name, code, count]), [
        ["United States", "US", "40"], ["Germany", "DE", "25"], ["France", "FR", "12"], ["Japan", "JP", "7"], ["Brazil", "BR", "3"],
      ]);
      await map.locator("tbody tr[data-row] td button", { hasText: /^DE$/ }).click();
      await page.waitForFunction(() => new URL(location.href).searchParams.getAll("filter").includes("geo.country_iso_code:DE"));
      await settled(page);
      assert.deepEqual(await map.locator("tbody tr[data-row] td:nth-child(2)").allInnerTexts(), ["DE"]);
    });
  });

  test("a dashboard is created, edited, saved, kept over a restart, exported, deleted and imported back identical", async () => {
    await withPage({}, async (page) => {
      await page.goto(`${stack.uiUrl}dashboards`);
      await waitForPanel(page, "Dashboards");
      await page.getByTestId("new-dashboard").click();
      await page.waitForURL(/\/_ui\/dashboards\/[A-Za-z0-9_-]+$/);
      const id = new URL(page.url()).pathname.split("/").pop();
      await page.getByTestId("edit-dashboard").click();
      await page.getByTestId("dashboard-title-input").fill("Checkout errors");
      await page.getByTestId("add-panel").click();
      const editor = page.getByTestId("panel-editor");
      await editor.getByTestId("editor-title").fill("Errors by endpoint");
      await editor.getByTestId("editor-type").selectOption("bars");
      await editor.getByTestId("editor-lucene").fill("level:error");
      await editor.getByTestId("editor-split").fill("endpoint_signature");
      await waitForPanel(page, "Preview");
      assert.ok(await editor.locator('[data-panel="Preview"] [data-row]').count() > 0, "the preview draws");
      await editor.getByTestId("editor-apply").click();
      await page.getByTestId("save-dashboard").click();
      await page.getByTestId("edit-dashboard").waitFor();
      await waitForPanel(page, "Errors by endpoint");

      await stack.restart();
      await page.reload();
      await waitForPanel(page, "Errors by endpoint");
      assert.equal(await page.locator(".dashboard-title").innerText(), "Checkout errors");

      await page.getByTestId("dashboard-export").click();
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-json").click()]);
      const exported = JSON.parse(await readFile(await download.path(), "utf8"));
      assert.equal(exported.id, id);
      assert.equal(exported.panels.length, 1);
      const stored = await fetch(`${stack.apiUrl}/_logfleet/dashboards/${id}`).then((response) => response.json());

      await page.getByTestId("dashboard-export").click();
      await page.getByTestId("delete-dashboard").click();
      await page.getByTestId("confirm-delete").click();
      await page.waitForURL(/\/_ui\/dashboards$/);
      await waitForPanel(page, "Dashboards");
      assert.equal((await fetch(`${stack.apiUrl}/_logfleet/dashboards/${id}`)).status, 404);
      assert.equal(await page.locator(`tr[data-id="${id}"]`).count(), 0);

      await page.getByTestId("import-dashboard").click();
      await page.getByTestId("import-text").fill(JSON.stringify(exported));
      await page.getByTestId("import-submit").click();
      await page.waitForURL(new RegExp(`/_ui/dashboards/${id}$`));
      await waitForPanel(page, "Errors by endpoint");
      const imported = await fetch(`${stack.apiUrl}/_logfleet/dashboards/${id}`).then((response) => response.json());
      const withoutTimes = (dashboard) => Object.fromEntries(Object.entries(dashboard).filter(([key]) => key !== "created_at" && key !== "updated_at"));
      assert.deepEqual(withoutTimes(imported), withoutTimes(stored));
    });
  });

  test("in edit mode panels move and resize on the grid, pushing the others down", async () => {
    await withPage({}, async (page) => {
      const grid = {
        id: "grid", title: "Grid", panels: [
          { id: "a", title: "Panel A", type: "stat", index: "logs-*", query: { language: "lucene", lucene: "" }, layout: { x: 0, y: 0, w: 12, h: 5 } },
          { id: "b", title: "Panel B", type: "stat", index: "logs-*", query: { language: "lucene", lucene: "" }, layout: { x: 12, y: 0, w: 12, h: 5 } },
        ],
      };
      await fetch(`${stack.apiUrl}/_logfleet/dashboards/grid`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(grid) });
      await openDashboard(page, stack.uiUrl, "grid");
      await page.getByTestId("edit-dashboard").click();
      // Move B onto A's place: A goes under it.
      const handle = await panel(page, "Panel B").getByRole("button", { name: "Move Panel B" }).boundingBox();
      const target = await panel(page, "Panel A").boundingBox();
      await page.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
      await page.mouse.down();
      await page.mouse.move(target.x + 20, handle.y + handle.height / 2, { steps: 8 });
      await page.mouse.up();
      // Make B twice as tall.
      const corner = await panel(page, "Panel B").locator(".resize-corner").boundingBox();
      await page.mouse.move(corner.x + 5, corner.y + 5);
      await page.mouse.down();
      await page.mouse.move(corner.x + 5, corner.y + 5 + 5 * 50, { steps: 8 });
      await page.mouse.up();
      await page.getByTestId("save-dashboard").click();
      await page.getByTestId("edit-dashboard").waitFor();
      const saved = await fetch(`${stack.apiUrl}/_logfleet/dashboards/grid`).then((response) => response.json());
      const layouts = Object.fromEntries(saved.panels.map((one) => [one.id, one.layout]));
      assert.deepEqual(layouts.b, { x: 0, y: 0, w: 12, h: 10 });
      assert.deepEqual(layouts.a, { x: 0, y: 10, w: 12, h: 5 });
    });
  });

  test("the Grafana export is a dashboard with one Elasticsearch target per panel", async () => {
    const dashboards = await prebuiltDashboards();
    for (const dashboard of dashboards) {
      await withPage({}, async (page) => {
        await openDashboard(page, stack.uiUrl, dashboard.id);
        await page.getByTestId("dashboard-export").click();
        const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export-grafana").click()]);
        assert.equal(download.suggestedFilename(), `${dashboard.id}.grafana.json`);
        const grafana = JSON.parse(await readFile(await download.path(), "utf8"));
        assert.equal(grafana.title, dashboard.title);
        assert.equal(grafana.panels.length, dashboard.panels.length);
        for (const one of grafana.panels) {
          assert.equal(one.targets.length, 1, one.title);
          assert.equal(one.datasource.type, "elasticsearch");
          assert.equal(one.targets[0].timeField, "@timestamp");
          assert.ok(Array.isArray(one.targets[0].metrics) && one.targets[0].metrics.length > 0, one.title);
          assert.ok(Array.isArray(one.targets[0].bucketAggs), one.title);
          assert.ok(["x", "y", "w", "h"].every((key) => Number.isInteger(one.gridPos[key])), one.title);
        }
        assert.deepEqual(grafana.templating.list.map((variable) => variable.name), dashboard.variables.map((variable) => variable.name));
        assert.equal(grafana.__inputs[0].pluginId, "elasticsearch");
      });
    }
  });

  test("panels survive a server error, showing it, while the others draw", async () => {
    await withPage({ allow: [/status of 400/] }, async (page) => {
      const broken = {
        id: "broken", title: "Broken", panels: [
          { id: "good", title: "Good", type: "stat", index: "logs-*", query: { language: "lucene", lucene: "" }, metrics: [{ type: "count" }], layout: { x: 0, y: 0, w: 12, h: 5 } },
          { id: "bad", title: "Bad", type: "bars", index: "logs-*", query: { language: "dsl", dsl: { no_such_query: {} } }, split: [{ field: "app_name", size: 5 }], layout: { x: 12, y: 0, w: 12, h: 5 } },
          { id: "nothing", title: "Nothing", type: "timeseries", index: "logs-*", query: { language: "lucene", lucene: "app_name:no-such-service" }, layout: { x: 0, y: 5, w: 24, h: 6 } },
        ],
      };
      await fetch(`${stack.apiUrl}/_logfleet/dashboards/broken`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(broken) });
      const states = await openDashboard(page, stack.uiUrl, "broken");
      assert.deepEqual(states.map((one) => [one.title, one.state]), [["Good", "ready"], ["Bad", "error"], ["Nothing", "empty"]]);
      assert.match(states[1].error, /no_such_query/);
    });
  });

  test("hostile values render as text in labels, tooltips, tables, the map and the graph", async () => {
    await ingest(stack.apiUrl, hostileEvents(), "logs-hostile");
    await withPage({}, async (page) => {
      for (const id of ["api-performance", "error-monitoring", "user-activity", "service-health"]) {
        const states = await openDashboard(page, stack.uiUrl, id);
        assert.ok(states.every((one) => one.state !== "error"), `${id}: ${JSON.stringify(states.filter((one) => one.state === "error"))}`);
        // Hover every canvas (charts' tooltips) and every bar, to render what shows on hover.
        for (const canvas of await page.locator(".dash-panel canvas").all()) {
          const box = await canvas.boundingBox();
          if (!box) continue;
          for (const [x, y] of [[0.5, 0.5], [0.25, 0.3], [0.75, 0.7], [0.9, 0.2], [0.1, 0.8]]) await page.mouse.move(box.x + box.width * x, box.y + box.height * y);
        }
        const text = await page.locator(".dashboard-grid").innerText();
        assert.ok(HOSTILE.some((value) => text.includes(value)), `${id} shows a hostile value as text`);
        assert.equal(await page.locator(".dashboard-page img, .dashboard-page script, .dashboard-page svg[onload]").count(), 0, `${id}: no markup from data`);
        assert.equal(await page.evaluate(() => window.__xss), undefined, `${id}: nothing ran`);
      }
      // The dependency map's nodes (canvas) and its table (text) with a hostile callee.
      await openDashboard(page, stack.uiUrl, "service-health", { "var-service": HOSTILE[0] });
      const callees = await panel(page, "Service dependency health").locator("tbody tr[data-row] td:nth-child(2)").allInnerTexts();
      assert.ok(callees.includes(HOSTILE[0]), callees.join(" | "));
      // The variable drop-down holds hostile values as text too.
      const options = await page.locator('select[data-variable="service"] option').allInnerTexts();
      assert.ok(options.includes(HOSTILE[1]), options.join(" | "));
      assert.equal(await page.evaluate(() => window.__xss), undefined);
    });
  });
});
