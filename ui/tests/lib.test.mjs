// Unit tests of the UI's pure modules (date math, intervals, Lucene clauses and completion,
// error reading), bundled from TypeScript by esbuild and imported in node.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { build } from "esbuild";
import { uiRoot } from "./harness.mjs";

async function load(entry) {
  const result = await build({ entryPoints: [entry], absWorkingDir: uiRoot, bundle: true, format: "esm", platform: "neutral", write: false, logLevel: "silent" });
  return import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString("base64")}`);
}

const time = await load("src/lib/time.ts");
const lucene = await load("src/lib/lucene.ts");
const client = await load("src/api/client.ts");
const format = await load("src/lib/format.ts");

const NOW = Date.UTC(2026, 10, 26, 15, 42, 17, 123);

describe("date math", () => {
  test("relative times and rounding, as Elasticsearch reads them", () => {
    assert.equal(time.resolveTime("now", NOW, "utc", false), NOW);
    assert.equal(time.resolveTime("now-15m", NOW, "utc", false), NOW - 15 * 60_000);
    assert.equal(time.resolveTime("now+1h", NOW, "utc", false), NOW + 3_600_000);
    assert.equal(time.resolveTime("now/d", NOW, "utc", false), Date.UTC(2026, 10, 26));
    assert.equal(time.resolveTime("now/d", NOW, "utc", true), Date.UTC(2026, 10, 27) - 1);
    assert.equal(time.resolveTime("now-1d/d", NOW, "utc", false), Date.UTC(2026, 10, 25));
    assert.equal(time.resolveTime("now-1M", NOW, "utc", false), Date.UTC(2026, 9, 26, 15, 42, 17, 123));
    // 2026-11-26 is a Thursday; ISO weeks start on Monday the 23rd.
    assert.equal(time.resolveTime("now/w", NOW, "utc", false), Date.UTC(2026, 10, 23));
    assert.equal(time.resolveTime("2026-11-26T10:00:00Z||+1h", NOW, "utc", false), Date.UTC(2026, 10, 26, 11));
    assert.equal(time.resolveTime("now-15x", NOW, "utc", false), null);
    assert.equal(time.resolveTime("yesterday", NOW, "utc", false), null);
  });

  test("absolute times with and without a zone", () => {
    assert.equal(time.parseAbsolute("2026-11-26 10:00:00", "utc"), Date.UTC(2026, 10, 26, 10));
    assert.equal(time.parseAbsolute("2026-11-26T10:00:00.250Z", "local"), Date.UTC(2026, 10, 26, 10, 0, 0, 250));
    assert.equal(time.parseAbsolute("2026-11-26T12:00:00+02:00", "utc"), Date.UTC(2026, 10, 26, 10));
    assert.equal(time.parseAbsolute("2026-11-26", "utc"), Date.UTC(2026, 10, 26));
    assert.equal(time.parseAbsolute("2026-13-01", "utc"), null);
    assert.equal(time.resolveRange({ from: "now", to: "now-1h" }, "utc", NOW), null);
  });

  test("absolute times go to the URL as instants and show in the chosen zone", () => {
    assert.equal(time.pinTime("2026-11-26 10:00:00", "utc"), "2026-11-26T10:00:00.000Z");
    assert.equal(time.pinTime(" 2026-11-26 10:00||+1h ", "utc"), "2026-11-26T10:00:00.000Z||+1h");
    assert.equal(time.pinTime("2026-11-26T12:00:00+02:00", "local"), "2026-11-26T10:00:00.000Z");
    assert.equal(time.pinTime(" now-15m ", "utc"), "now-15m");
    assert.equal(time.pinTime("yesterday", "utc"), "yesterday");
    assert.equal(time.showTime("2026-11-26T10:00:00.000Z", "utc"), "2026-11-26 10:00:00");
    assert.equal(time.showTime("2026-11-26T10:00:00.250Z||-1d", "utc"), "2026-11-26 10:00:00.250||-1d");
    assert.equal(time.showTime("now-1h", "utc"), "now-1h");
  });

  test("histogram intervals give about 60 to 120 buckets, calendar ones from a day up", () => {
    const span = (ms) => ({ from: NOW - ms, to: NOW });
    const cases = [[15 * 60_000, "10s"], [3_600_000, "30s"], [4 * 3_600_000, "2m"], [24 * 3_600_000, "15m"], [7 * 86_400_000, "2h"], [30 * 86_400_000, "6h"], [90 * 86_400_000, "day"]];
    for (const [ms, expected] of cases) {
      const interval = time.histogramInterval(span(ms));
      assert.equal(interval.value, expected, `${ms} ms`);
      const buckets = ms / interval.milliseconds;
      assert.ok(buckets >= 48 && buckets <= 120, `${ms} ms gives ${buckets} buckets`);
    }
    assert.equal(time.histogramInterval(span(90 * 86_400_000)).kind, "calendar_interval");
    assert.equal(time.histogramInterval(span(3_600_000)).kind, "fixed_interval");
  });

  test("times format in UTC with milliseconds", () => {
    assert.equal(time.formatTime(NOW, "utc"), "2026-11-26 15:42:17.123");
    assert.equal(time.formatTime(NOW, "utc", "s"), "2026-11-26 15:42:17");
  });
});

describe("lucene", () => {
  test("filters quote values and escape field names", () => {
    assert.equal(lucene.filterClause("app_name", "auth", false), 'app_name:"auth"');
    assert.equal(lucene.filterClause("message", 'say "hi" \\o/', true), '-message:"say \\"hi\\" \\\\o/"');
    assert.equal(lucene.filterClause("weird field:x", "v", false), 'weird\\ field\\:x:"v"');
    assert.equal(lucene.existsClause("user_name", true), "-_exists_:user_name");
  });

  test("clauses are added so that both must hold", () => {
    assert.equal(lucene.addClause("", 'a:"1"'), 'a:"1"');
    assert.equal(lucene.addClause("level:error", 'a:"1"'), 'level:error a:"1"');
    assert.equal(lucene.addClause("level:error OR level:critical", 'a:"1"'), '(level:error OR level:critical) a:"1"');
    assert.equal(lucene.addClause('level:error a:"1"', 'a:"1"'), 'level:error a:"1"', "the same clause is not added twice");
    assert.equal(lucene.addClause('level:error a:"1"', '-a:"1"'), 'level:error -a:"1"', "the opposite clause is replaced");
  });

  test("completion finds the field or the value under the caret", () => {
    assert.deepEqual(lucene.completionAt("lev", 3), { kind: "field", field: "", prefix: "lev", start: 0, end: 3 });
    assert.deepEqual(lucene.completionAt("level:er", 8), { kind: "value", field: "level", prefix: "er", start: 6, end: 8 });
    assert.deepEqual(lucene.completionAt('a AND app_name:"us', 18), { kind: "value", field: "app_name", prefix: "us", start: 15, end: 18 });
    assert.equal(lucene.completionAt("level:error AND", 15), null);
  });
});

describe("errors", () => {
  test("an Elasticsearch error body reads as type, reason and causes", () => {
    const error = client.errorFromBody(400, {
      error: {
        root_cause: [{ type: "query_shard_exception", reason: "Failed to parse query [foo:(]" }],
        type: "search_phase_execution_exception",
        reason: "all shards failed",
        failed_shards: [{ reason: { type: "query_shard_exception", reason: "Failed to parse query [foo:(]", caused_by: { type: "parse_exception", reason: "Cannot parse 'foo:(': Encountered \"<EOF>\" at line 1, column 5." } } }],
      },
      status: 400,
    });
    assert.equal(error.type, "search_phase_execution_exception");
    assert.equal(error.status, 400);
    assert.deepEqual(error.causes, [
      "query_shard_exception: Failed to parse query [foo:(]",
      "parse_exception: Cannot parse 'foo:(': Encountered \"<EOF>\" at line 1, column 5.",
    ]);
    assert.deepEqual(error.positionIn("foo:("), { line: 1, column: 5, offset: 4 });
  });

  test("a query error's line and column become an index into the query", () => {
    const at = (reason, query) => new client.ApiError(400, "parsing_exception", reason).positionIn(query)?.offset;
    assert.equal(at("Failed to parse query [level:(error]: missing ) at line 1, column 13", "level:(error"), 12, "past the end");
    assert.equal(at("Failed to parse query [a:b)]: unexpected [)] at line 1, column 4", "a:b)"), 3);
    assert.equal(at("Failed to parse query [a:b AND\nc:d)]: unexpected [)] at line 2, column 4", "a:b AND\nc:d)"), 11);
    const quoted = 'message:"line 1, column 2" AND (';
    assert.equal(at(`Failed to parse query [${quoted}]: empty query at line 1, column 32`, quoted), 31, "the last mention is the position");
    assert.equal(at("Failed to parse query [\u{1F600}:(x]: missing ) at line 1, column 5", "\u{1F600}:(x"), 5, "columns count characters");
    assert.equal(at("Failed to parse query [a]: nothing to point at", "a"), undefined);
    assert.equal(client.errorFromBody(502, "<html>bad gateway</html>").reason, "the server answered HTTP 502");
  });
});

describe("format", () => {
  test("sources flatten to dotted fields, arrays of objects to arrays of leaves", () => {
    const fields = format.flattenSource({ a: { b: 1, c: { d: "x" } }, list: [{ n: 1 }, { n: 2 }], tags: ["p", "q"], empty: {} });
    assert.deepEqual([...fields.entries()], [["a.b", 1], ["a.c.d", "x"], ["list.n", [1, 2]], ["tags", ["p", "q"]], ["empty", {}]]);
  });

  test("control characters become visible, long text is cut", () => {
    assert.equal(format.showControls("a\u0000b\u001b[0m\u007f\tc\n"), "a\u2400b\u241b[0m\u2421\tc\n");
    assert.deepEqual(format.truncate("abcdef", 3), { text: "abc…", truncated: true });
    assert.deepEqual(format.truncate("abc", 3), { text: "abc", truncated: false });
    assert.equal(format.truncate("a\u{1F600}", 2).text, "a…", "a surrogate pair is never split");
  });
});

const requests = await load("src/dashboards/requests.ts");
const model = await load("src/dashboards/model.ts");
const results = await load("src/dashboards/results.ts");
const layout = await load("src/dashboards/layout.ts");

describe("dashboard requests", () => {
  test("now-relative ranges are rounded outwards to the interval, absolute ones are kept", () => {
    const { bounds, interval } = requests.roundedBounds({ from: "now-1h", to: "now" }, "utc", NOW);
    assert.equal(interval.value, "1m");
    assert.equal(bounds.from, Date.UTC(2026, 10, 26, 14, 42));
    assert.equal(bounds.to, Date.UTC(2026, 10, 26, 15, 43) - 1);
    // A refresh within the same minute sends the same range.
    assert.deepEqual(requests.roundedBounds({ from: "now-1h", to: "now" }, "utc", NOW + 20_000).bounds, bounds);
    const absolute = requests.roundedBounds({ from: "2026-11-26T10:00:07Z", to: "2026-11-26T11:00:09Z" }, "utc", NOW).bounds;
    assert.deepEqual(absolute, { from: Date.UTC(2026, 10, 26, 10, 0, 7), to: Date.UTC(2026, 10, 26, 11, 0, 9) });
    assert.equal(requests.roundedBounds({ from: "now", to: "now-1h" }, "utc", NOW), null);
  });

  test("identical searches are batched once", () => {
    const one = { index: "logs-*", body: { size: 0, query: { match_all: {} } } };
    const other = { index: "logs-*", body: { size: 1 } };
    const batch = requests.batchRequests([one, other, { index: "logs-*", body: { size: 0, query: { match_all: {} } } }]);
    assert.equal(batch.items.length, 2);
    assert.deepEqual(batch.slots, [0, 1, 0]);
  });

  test("a panel's query keeps its own and adds the range, the variables and the filters", () => {
    const panel = model.parsePanel({ id: "p", title: "P", type: "bars", query: { language: "dsl", dsl: { term: { log_category: "audit" } } }, split: [{ field: "user_name", size: 5 }], options: { ignore_variables: ["endpoint"] } }, 0);
    const context = {
      bounds: { from: 0, to: 60_000 }, interval: { kind: "fixed_interval", value: "1s", milliseconds: 1000, label: "" }, zone: "utc",
      variables: [
        { variable: { name: "service", label: "Service", field: "app_name", alsoFields: ["target_service"] }, value: "auth" },
        { variable: { name: "endpoint", label: "Endpoint", field: "endpoint_signature", alsoFields: [] }, value: "GET /" },
      ],
      filters: [{ fields: ["status_code"], value: "500" }],
    };
    const request = requests.panelRequest(panel, context);
    assert.deepEqual(request.body.query.bool.must, [{ term: { log_category: "audit" } }]);
    assert.deepEqual(request.body.query.bool.filter.slice(1), [
      { bool: { should: [{ term: { app_name: "auth" } }, { term: { target_service: "auth" } }], minimum_should_match: 1 } },
      { term: { status_code: "500" } },
    ]);
    assert.deepEqual(request.body.aggs, { split0: { terms: { field: "user_name", size: 5 } } });
    assert.equal(requests.explorerQuery(panel, context).query, '(log_category:"audit") AND (app_name:"auth" OR target_service:"auth") AND status_code:"500"');
  });

  test("the Query DSL dashboards use turns into Lucene for the explorer, or says it cannot", () => {
    assert.equal(requests.luceneOf({ bool: { must: [{ term: { log_category: "api_request" } }, { exists: { field: "duration_ms" } }] } }), '(log_category:"api_request") AND (_exists_:duration_ms)');
    assert.equal(requests.luceneOf({ range: { status_code: { gte: 400 } } }), "status_code:[400 TO *]");
    assert.equal(requests.luceneOf({ terms: { level: ["error", "critical"] } }), 'level:("error" OR "critical")');
    assert.equal(requests.luceneOf({ geo_distance: {} }), null);
  });

  test("responses are read into chart data: metrics, percentiles, shares", () => {
    const panel = model.parsePanel({ type: "table", split: [{ field: "endpoint_signature", size: 5 }], metrics: [{ type: "percentile", field: "duration_ms", percent: 95 }, { type: "ratio", filter: { term: { response_category: "server_error" } } }, { type: "count" }] }, 0);
    const response = { hits: { total: { value: 10 }, hits: [] }, aggregations: { split0: { buckets: [{ key: "GET /", doc_count: 10, m0: { values: { "95.0": 120.5 } }, m1: { doc_count: 2 } }] } } };
    const data = results.readPanel(panel, response, { from: 0, to: 59_999 }, 1000, "utc");
    assert.deepEqual(data.rows, [{ cells: ["GET /", 120.5, 0.2, 10], count: 10 }]);
  });
});

describe("dashboard layout", () => {
  test("a moved panel pushes the one it lands on down, and gaps close", () => {
    const panels = [
      model.parsePanel({ id: "a", layout: { x: 0, y: 0, w: 12, h: 4 } }, 0),
      model.parsePanel({ id: "b", layout: { x: 12, y: 0, w: 12, h: 4 } }, 1),
      model.parsePanel({ id: "c", layout: { x: 0, y: 4, w: 24, h: 4 } }, 2),
    ];
    const moved = layout.settle(panels.map((panel) => (panel.id === "c" ? { ...panel, layout: { ...panel.layout, y: 0 } } : panel)), "c");
    assert.deepEqual(moved.map((panel) => [panel.id, panel.layout.y]), [["a", 4], ["b", 4], ["c", 0]]);
  });

  test("a dashboard reads from any JSON with defaults, and writes back what it read", () => {
    const dashboard = model.parseDashboard({ id: "d", title: "D", panels: [{ title: "P", type: "nonsense", layout: { w: 99 } }] });
    assert.equal(dashboard.panels[0].type, "timeseries");
    assert.equal(dashboard.panels[0].layout.w, 24);
    assert.deepEqual(dashboard.time, { from: "now-1h", to: "now" });
    assert.deepEqual(model.parseDashboard(model.dashboardJson(dashboard)), dashboard);
  });
});

const alerts = await load("src/alerts/model.ts");
const dashboardAlerts = await load("src/dashboards/alerts.ts");

describe("alert rules in the UI", () => {
  const rule = {
    name: "Error rate", index: "logs-api_request-*", query: { term: { service_type: "proxy_service" } },
    condition: { metric: "ratio", numerator: "status_code:>=500", op: ">", threshold: 5 },
    window: "5m", every: "1m", for: "2m", delay: "30s", group_by: ["app_name"], severity: "critical",
    labels: { sla: "availability" }, notify: [{ type: "email", to: ["ops@example.com"] }], enabled: true,
  };

  test("a rule survives the form: draft and back, keys the form does not edit included", () => {
    const draft = alerts.draftOf({ ...rule, state: { firing: 1, pending: 0 } });
    assert.equal(draft.query, '{"term":{"service_type":"proxy_service"}}');
    assert.equal(draft.groupBy, "app_name");
    assert.deepEqual(draft.rest, { delay: "30s" });
    assert.deepEqual(alerts.ruleOf(draft).rule, rule);
  });

  test("the form says what to fix before the server is asked", () => {
    const draft = alerts.draftOf(rule);
    assert.match(alerts.ruleOf({ ...draft, query: "{not json" }).error, /^Query: not valid JSON/);
    assert.match(alerts.ruleOf({ ...draft, threshold: "" }).error, /^Threshold/);
    assert.equal(alerts.ruleOf({ ...draft, query: "app_name:auth" }).rule.query, "app_name:auth");
    assert.equal(alerts.ruleOf({ ...draft, query: "  " }).rule.query, undefined);
  });

  test("conditions in one line", () => {
    assert.equal(alerts.conditionSummary(rule), "ratio > 5 % over 5m per app_name");
    assert.equal(alerts.conditionSummary({ ...rule, condition: { metric: "p95", field: "duration_ms", op: ">", threshold: 1000 }, group_by: [] }), "p95(duration_ms) > 1000 ms over 5m");
    assert.equal(alerts.conditionSummary({ ...rule, condition: { metric: "absence" } }), "no events for 5m per app_name");
  });

  test("fired intervals pair each firing with its resolution, per group", () => {
    const event = (minute, state, app, value = null) => ({ time: minute * 60_000, rule: "r", name: "R", state, group: { app_name: app }, value, message: "", severity: "critical", silenced: false, repeat: false });
    const spans = alerts.firedSpans([
      event(7, "resolved", "a"), event(1, "pending", "a"), event(2, "firing", "a", 6), event(3, "firing", "b", 9), event(5, "firing", "a", 8), event(9, "firing", "a", 7),
    ]);
    assert.deepEqual(spans.map((span) => [span.group.app_name, span.from / 60_000, span.to === null ? null : span.to / 60_000, span.peak]), [["a", 2, 7, 8], ["b", 3, null, 9], ["a", 9, null, 7]]);
  });

  test("silence matchers as Alertmanager reads them", () => {
    const labels = alerts.alertLabels(rule, "sla-error-rate", { app_name: "auth" });
    assert.deepEqual(labels, { sla: "availability", alertname: "Error rate", severity: "critical", rule_id: "sla-error-rate", app_name: "auth" });
    assert.ok(alerts.matchesLabels([{ name: "alertname", value: "Error.*", isRegex: true, isEqual: true }], labels));
    assert.ok(!alerts.matchesLabels([{ name: "app_name", value: "auth", isRegex: false, isEqual: false }], labels));
    assert.ok(!alerts.matchesLabels([{ name: "app_name", value: "(", isRegex: true, isEqual: true }], labels));
    assert.ok(!alerts.matchesLabels([], labels), "no matchers match nothing");
    assert.equal(alerts.matcherText({ name: "a", value: "b", isRegex: true, isEqual: false }), "a!~b");
  });

  test("an alert's events in the explorer: the rule's Lucene query and the group as filters", () => {
    const path = new URL(alerts.alertEventsPath("/_ui", { ...rule, query: "service_type:proxy_service OR level:error" }, { app_name: "auth" }), "http://x");
    assert.equal(path.pathname, "/_ui/explorer");
    assert.equal(path.searchParams.get("index"), "logs-api_request-*");
    assert.equal(path.searchParams.get("q"), '(service_type:proxy_service OR level:error) app_name:"auth"');
    assert.equal(new URL(alerts.alertEventsPath("/_ui", rule, { app_name: "auth" }), "http://x").searchParams.get("q"), 'app_name:"auth"');
  });

  test("a linked rule's threshold is drawn only where the panel shows its measure", () => {
    const panel = (metrics, unit) => ({ metrics, unit, thresholds: [{ value: 0.05, severity: "critical", label: "5%" }] });
    const ratio = dashboardAlerts.alertThreshold(panel([{ type: "ratio" }], "share"), rule, 60_000);
    assert.deepEqual(ratio, { value: 0.05, severity: "critical", label: "alert > 5%" });
    // The panel's own line at the same value gives way to the rule's.
    assert.deepEqual(dashboardAlerts.thresholdsWithAlert(panel([{ type: "ratio" }], "share"), { rule, regions: [] }, 60_000), [ratio]);
    assert.equal(dashboardAlerts.alertThreshold(panel([{ type: "avg", field: "duration_ms" }], "ms"), rule, 60_000), null);
    const count = { ...rule, condition: { metric: "count", op: ">=", threshold: 10 } };
    assert.equal(dashboardAlerts.alertThreshold(panel([{ type: "count" }], "count"), count, 30_000).value, 1);
    assert.equal(dashboardAlerts.alertThreshold(panel([{ type: "count" }], "count"), count, 300_000).label, "alert >= 10 per 5m");
    assert.equal(dashboardAlerts.alertThreshold(panel([{ type: "rate" }], "per_minute"), count, 30_000).value, 2);
    const p95 = { ...rule, condition: { metric: "p95", field: "duration_ms", op: ">", threshold: 1000 } };
    assert.equal(dashboardAlerts.alertThreshold(panel([{ type: "avg", field: "duration_ms" }, { type: "percentile", field: "duration_ms", percent: 95 }], "ms"), p95, 60_000).value, 1000);
    assert.equal(dashboardAlerts.alertThreshold(panel([{ type: "percentile", field: "duration_ms", percent: 99 }], "ms"), p95, 60_000), null);
  });
});
