// Browser tests of the alerts page against the real logfleet binary (LOGFLEET_BIN), with the
// prebuilt rules installed: the rules and their states, the rule editor (its preview over
// ingested events, the server's reason for refusing a rule, saving), an alert that fires, a
// silence created and removed, the history, and a dashboard panel linked to a rule. Every
// test fails on a console error or warning, a page error or a dialog.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { ingest, launchBrowser, screenshot, seedEvents, startStack, waitForPanel, withCheckedPage } from "./harness.mjs";

let browser;
let stack;

const FIRING_RULE = "login-burst";
const BURST_CLIENT = "192.0.2.250";
/** Chromium logs every non-2xx answer: the refused rule's 400 is expected. */
const REFUSED = /status of 400/;

async function api(path, options = {}) {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    ...options,
    headers: { "content-type": "application/json" },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${options.method ?? "GET"} ${path}: HTTP ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Waits until the server says `check` holds, up to `timeoutMs`. */
async function eventually(check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

before(async () => {
  browser = await launchBrowser();
  stack = await startStack({ prebuiltAlerts: true });
  const now = Date.now();
  // The seed's traffic, an incident of server errors on `auth` 40 to 35 minutes ago (for the
  // preview), and a burst of failed logins from one client a minute ago (for the alert).
  const incident = Array.from({ length: 40 }, (_, index) => ({
    "@timestamp": new Date(now - 40 * 60_000 + index * 7_000).toISOString(), log_category: "api_request", app_name: "auth", level: "error",
    message: "POST /api/login/ 503 in 2400 ms", endpoint_signature: "POST /api/login/", status_code: 503, response_category: "server_error", duration_ms: 2400,
  }));
  const burst = Array.from({ length: 14 }, (_, index) => ({
    "@timestamp": new Date(now - 50_000 + index * 1_000).toISOString(), log_category: "audit", app_name: "auth", level: "warning",
    message: "login failed for mallory", user_action: "LOGIN_FAILED", user_name: "mallory", client_ip: BURST_CLIENT, success: false,
  }));
  await ingest(stack.apiUrl, [...seedEvents(900), ...incident, ...burst]);
  // An earlier burst that fired and resolved, as the server writes such changes to the history.
  const change = (minutesAgo, state, value) => ({
    "@timestamp": new Date(now - minutesAgo * 60_000).toISOString(), level: state === "firing" ? "critical" : "info",
    message: `[${state.toUpperCase()}] Failed login burst (client_ip=${BURST_CLIENT}): count ${value} >= 10`,
    alert: { rule: FIRING_RULE, name: "Failed login burst", state, severity: "critical", group: { client_ip: BURST_CLIENT }, value, metric: "count", op: ">=", threshold: 10, window: "5m", silenced: false, repeat: false },
  });
  await ingest(stack.apiUrl, [change(21, "firing", 12), change(15, "resolved", 3)], "logs-alerts-default");
  await api(`/_logfleet/alerts/rules/${FIRING_RULE}`, {
    method: "PUT",
    body: {
      name: "Failed login burst", index: "logs-audit-*", query: "user_action:LOGIN_FAILED",
      condition: { metric: "count", op: ">=", threshold: 10 }, window: "5m", every: "1s", delay: "1s", group_by: ["client_ip"], severity: "critical",
      labels: { team: "security" }, annotations: { summary: "{{value}} failed logins from {{group.client_ip}}" },
    },
  });
  await eventually(async () => (await api("/_logfleet/alerts")).alerts.some((alert) => alert.rule === FIRING_RULE && alert.state === "firing"), "the login burst alert firing");
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const withPage = (options, body) => withCheckedPage(browser, options, body);
const ORDER = ["firing", "pending", "ok", "disabled"];

describe("the alerts page", () => {
  test("lists the rules with their states, firing first; the navigation leads there", async () => {
    await withPage({}, async (page) => {
      await page.goto(`${stack.uiUrl}explorer`);
      await page.getByRole("link", { name: "Alerts" }).click();
      await waitForPanel(page, "Rules");
      assert.equal(new URL(page.url()).pathname, "/_ui/alerts");
      const rows = await page.$$eval(".rules-table tbody tr", (trs) => trs.map((tr) => ({ id: tr.dataset.id, state: tr.dataset.state, text: tr.textContent })));
      const ids = rows.map((one) => one.id);
      for (const id of ["sla-error-rate", "sla-latency-p95", "brute-force", "inter-service-errors", "silent-service", "slow-queries", FIRING_RULE]) assert.ok(ids.includes(id), `${id} is listed`);
      // Firing rules first (the prebuilt brute-force rule may fire on the same burst).
      const states = rows.map((one) => one.state);
      assert.deepEqual(states, [...states].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b)), "firing, pending, OK, disabled");
      const burst = rows.find((one) => one.id === FIRING_RULE);
      assert.equal(burst.state, "firing");
      assert.match(burst.text, /Firing 1/);
      assert.match(burst.text, /count >= 10 over 5m per client_ip/);
      const errorRate = rows.find((one) => one.id === "sla-error-rate");
      assert.match(errorRate.text, /ratio > 5 % over 5m per app_name/);
      await screenshot(page, "alerts-rules");
      // Disable and enable again: the switch PUTs the rule.
      const toggle = page.locator(`tr[data-id="slow-queries"] [data-testid=rule-enabled]`);
      await toggle.click();
      await page.waitForSelector(`tr[data-id="slow-queries"][data-state="disabled"]`);
      assert.equal((await api("/_logfleet/alerts/rules/slow-queries"))["slow-queries"].enabled, false);
      await page.locator(`tr[data-id="slow-queries"] [data-testid=rule-enabled]`).click();
      await page.waitForSelector(`tr[data-id="slow-queries"][data-state="ok"]`);
    });
  });

  test("the editor previews a rule over the ingested events, shows why the server refuses one, and saves", async () => {
    await withPage({ allow: [REFUSED] }, async (page) => {
      await page.goto(`${stack.uiUrl}alerts`);
      await waitForPanel(page, "Rules");
      await page.click("[data-testid=new-rule]");
      await page.waitForSelector("[data-testid=rule-name]");
      // A new rule may not take an existing rule's id.
      await page.fill("[data-testid=rule-name]", "Failed login burst");
      await page.fill("[data-testid=rule-id]", FIRING_RULE);
      await page.click("[data-testid=rule-save]");
      await page.waitForSelector("[data-testid=rule-problem]");
      assert.match(await page.textContent("[data-testid=rule-problem]"), /a rule with the id login-burst exists/);
      await page.fill("[data-testid=rule-id]", "");
      await page.fill("[data-testid=rule-name]", "Auth server errors");
      assert.equal(await page.getAttribute("[data-testid=rule-id]", "placeholder"), "auth-server-errors");
      await page.fill("[data-testid=rule-index]", "logs-api_request-*");
      await page.fill("[data-testid=rule-query]", "app_name:auth");
      await page.selectOption("[data-testid=rule-metric]", "avg");
      // No field for an average: the server's reason shows under the form.
      await page.click("[data-testid=rule-save]");
      await page.waitForSelector("[data-testid=rule-save-error]");
      assert.match(await page.textContent("[data-testid=rule-save-error]"), /\[condition\.field\] is required for the \[avg\] metric/);
      await page.selectOption("[data-testid=rule-metric]", "ratio");
      await page.fill("[data-testid=rule-numerator]", "status_code:>=500");
      await page.fill("[data-testid=rule-threshold]", "20");
      await page.fill("[data-testid=rule-group-by]", "app_name");
      await page.selectOption("[data-testid=rule-severity]", "critical");
      await page.selectOption("[data-testid=preview-range]", "1h");
      await page.click("[data-testid=rule-preview]");
      await waitForPanel(page, "Preview", ["ready", "error"], 30_000);
      const result = page.locator("[data-testid=preview-result]");
      assert.ok(Number(await result.getAttribute("data-fired")) >= 1, "the incident would have fired");
      assert.match(await page.textContent("[data-testid=preview-sentence]"), /Would have fired \d+ times? over the last hour/);
      assert.ok(await page.locator(".preview-chart canvas").count() > 0, "the chart draws");
      assert.match(await page.getAttribute(".preview-chart .time-chart", "data-thresholds"), /threshold > 20%/);
      assert.ok(Number(await page.getAttribute(".preview-chart .time-chart", "data-regions")) >= 1, "the fired intervals are shaded");
      const intervals = await page.$$eval("[data-testid=fired-intervals] tbody tr", (trs) => trs.map((tr) => tr.textContent));
      assert.ok(intervals.some((text) => text.includes("app_name=auth")), intervals.join("\n"));
      // The tooltip over the incident names the group that would have fired.
      await page.evaluate(() => document.querySelector(".rule-editor-page").scrollTo(0, 0));
      const plot = await page.locator(".preview-chart .u-over").boundingBox();
      await page.mouse.move(plot.x + plot.width * 0.36, plot.y + plot.height * 0.6, { steps: 3 });
      await page.waitForSelector("[data-testid=chart-tooltip]");
      await screenshot(page, "alerts-rule-editor");
      // The JSON tab shows the same rule; the form comes back from it.
      await page.click("[data-tab=json]");
      const json = JSON.parse(await page.inputValue("[data-testid=rule-json]"));
      assert.deepEqual(json.condition, { metric: "ratio", numerator: "status_code:>=500", op: ">", threshold: 20 });
      assert.deepEqual(json.group_by, ["app_name"]);
      await page.click("[data-tab=form]");
      await page.click("[data-testid=rule-save]");
      await page.waitForSelector(`.rules-table tr[data-id="auth-server-errors"]`);
      const saved = (await api("/_logfleet/alerts/rules/auth-server-errors"))["auth-server-errors"];
      assert.equal(saved.query, "app_name:auth");
      assert.equal(saved.severity, "critical");
      // Deleting asks first.
      await page.click(`tr[data-id="auth-server-errors"] [data-testid=rule-delete]`);
      await page.waitForSelector("[data-testid=confirm-delete]");
      await page.click("[data-testid=confirm-delete-button]");
      await page.waitForSelector(`tr[data-id="auth-server-errors"]`, { state: "detached" });
      assert.equal((await fetch(`${stack.apiUrl}/_logfleet/alerts/rules/auth-server-errors`)).status, 404);
    });
  });

  test("a firing alert is listed and silenced from the list; the silence is expired and deleted", async () => {
    await withPage({}, async (page) => {
      await page.goto(`${stack.uiUrl}alerts/firing`);
      await waitForPanel(page, "Alerts");
      const alert = page.locator(`.alerts-table tr[data-rule="${FIRING_RULE}"]`);
      assert.equal(await alert.getAttribute("data-state"), "firing");
      assert.match(await alert.textContent(), new RegExp(`client_ip.*${BURST_CLIENT.replace(/\./g, "\\.")}`));
      assert.match(await alert.textContent(), /Failed login burst/);
      const events = new URL(await alert.locator("[data-testid=alert-events]").getAttribute("href"), stack.uiUrl);
      assert.equal(events.searchParams.get("index"), "logs-audit-*");
      assert.equal(events.searchParams.get("q"), `user_action:LOGIN_FAILED client_ip:"${BURST_CLIENT}"`);
      await screenshot(page, "alerts-firing");
      await alert.locator("[data-testid=silence-alert]").click();
      await page.waitForSelector("[data-testid=silence-form]");
      const matchers = await page.$$eval(".matcher-row", (rows) => rows.map((one) => [one.querySelector("[data-testid=matcher-name]").value, one.querySelector("[data-testid=matcher-value]").value]));
      assert.deepEqual(matchers, [["alertname", "Failed login burst"], ["client_ip", BURST_CLIENT]]);
      assert.match(await page.textContent("[data-testid=silence-matches]"), /Matches 1 active alert/);
      await page.fill("[data-testid=silence-comment]", "pen test until noon");
      await page.click("[data-testid=silence-submit]");
      await page.waitForSelector(`[data-panel="Silences"] tr[data-state="active"]`);
      assert.equal(new URL(page.url()).pathname, "/_ui/alerts/silences");
      assert.match(await page.textContent(".silences-table"), /alertname=Failed login burst/);
      assert.match(await page.textContent(".silences-table"), /pen test until noon/);
      await screenshot(page, "alerts-silences");
      const silences = (await api("/_logfleet/alerts/silences")).silences;
      assert.equal(silences.length, 1);
      assert.equal(silences[0].active, true);
      // The alert says it is silenced.
      await page.click("[data-tab=firing]");
      await page.waitForSelector(`.alerts-table tr[data-rule="${FIRING_RULE}"] .state-silenced`);
      // Expire: it stays listed as expired; then delete it.
      await page.click("[data-tab=silences]");
      await page.click("[data-testid=silence-expire]");
      await page.waitForSelector(`[data-panel="Silences"] tr[data-state="expired"]`);
      await page.click("[data-testid=silence-delete]");
      await page.waitForSelector(`[data-panel="Silences"][data-state="empty"]`);
      assert.deepEqual((await api("/_logfleet/alerts/silences")).silences, []);
    });
  });

  test("the history lists the state change, with a link to the explorer", async () => {
    await withPage({}, async (page) => {
      await page.goto(`${stack.uiUrl}alerts/history`);
      await waitForPanel(page, "History");
      const change = page.locator(`.history-table tr[data-rule="${FIRING_RULE}"][data-state="firing"]`).first();
      assert.match(await change.textContent(), new RegExp(`client_ip=${BURST_CLIENT.replace(/\./g, "\\.")}`));
      const href = await page.getAttribute("[data-testid=history-explorer]", "href");
      const link = new URL(href, stack.uiUrl);
      assert.equal(link.pathname, "/_ui/explorer");
      assert.equal(link.searchParams.get("index"), "logs-alerts-default");
      await screenshot(page, "alerts-history");
    });
  });

  test("a dashboard panel linked to a rule draws its threshold and when it fired", async () => {
    const dashboard = {
      id: "security", title: "Security", time: { from: "now-30m", to: "now" },
      panels: [{
        id: "failed-logins", title: "Failed logins", type: "timeseries", index: "logs-*",
        query: { language: "lucene", lucene: "user_action:LOGIN_FAILED" }, metrics: [{ type: "count", label: "failed logins" }],
        unit: "count", alert: FIRING_RULE, layout: { x: 0, y: 0, w: 24, h: 10 },
      }],
    };
    await api(`/_logfleet/dashboards/${dashboard.id}`, { method: "PUT", body: dashboard });
    await withPage({}, async (page) => {
      await page.goto(`${stack.uiUrl}dashboards/${dashboard.id}`);
      await waitForPanel(page, "Failed logins");
      const chart = page.locator(`[data-panel="Failed logins"] .time-chart`);
      // The count over 5 minutes, scaled to the chart's interval.
      assert.match(await chart.getAttribute("data-thresholds"), /^alert >= 10 per 5m \(\d+(\.\d+)? per \d+s\)$/);
      assert.equal(await chart.getAttribute("data-regions"), "2", "the earlier burst and the firing alert are shaded");
      assert.equal(await page.getAttribute(`[data-panel="Failed logins"] .panel-alert`, "data-alert-state"), "firing");
      // The tooltip names the alert where it fires.
      const box = await page.locator(`[data-panel="Failed logins"] .u-over`).boundingBox();
      await page.mouse.move(box.x + box.width - 2, box.y + box.height / 2, { steps: 3 });
      await page.waitForSelector("[data-testid=chart-tooltip] .tooltip-alert");
      assert.match(await page.textContent("[data-testid=chart-tooltip] .tooltip-alert"), /Failed login burst: client_ip=192\.0\.2\.250 — firing/);
      await screenshot(page, "dashboard-alert");
      // The panel editor offers the rules.
      const saved = await api(`/_logfleet/dashboards/${dashboard.id}`);
      assert.equal(saved.panels[0].alert, FIRING_RULE);
    });
  });
});

