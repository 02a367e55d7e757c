// A dashboard as Grafana's dashboard JSON, for Grafana's Elasticsearch data source (pointed at
// Logfleet, or at Elasticsearch after a move to a cluster): one panel per panel, each with one
// target (a Lucene query, metrics and bucket aggregations as Grafana's query editor writes
// them), the variables as terms queries, deployments as an annotation. The data source is an
// import input (`${DS_LOGFLEET}`), so Grafana asks which one to use on import.

import { metricLabel, numberOption, stringListOption, stringOption, type Dashboard, type Metric, type Panel, type Unit } from "./model";
import { distributionField, distributionInterval, graphFields, luceneOf, MAP_DEFAULTS, TIME_FIELD } from "./requests";

const DATASOURCE = { type: "elasticsearch", uid: "${DS_LOGFLEET}" };

const GRAFANA_UNITS: Record<Unit, string> = { count: "short", ms: "ms", bytes: "bytes", percent: "percent", share: "percentunit", per_minute: "rpm" };

const GRAFANA_TYPES: Record<Panel["type"], string> = {
  timeseries: "timeseries", stat: "stat", bars: "barchart", pie: "piechart", table: "table", events: "table",
  heatmap: "heatmap", map: "geomap", graph: "nodeGraph", edges: "table", distribution: "histogram",
};

/** The panel's query as Lucene, with the dashboard's variables as Grafana template variables. */
function targetQuery(panel: Panel, dashboard: Dashboard): { query: string; untranslated: boolean } {
  const translated = panel.query.language === "lucene" ? panel.query.lucene.trim() : luceneOf(panel.query.dsl);
  const untranslated = translated === null;
  const own = translated ?? "";
  const ignored = new Set(stringListOption(panel, "ignore_variables"));
  const variables = dashboard.variables.filter((variable) => !ignored.has(variable.name)).map((variable) => {
    const fields = [variable.field, ...variable.alsoFields];
    const parts = fields.map((field) => `${field}:$${variable.name}`);
    return parts.length === 1 ? (parts[0] ?? "") : `(${parts.join(" OR ")})`;
  });
  return { query: [own ? `(${own})` : "", ...variables].filter(Boolean).join(" AND "), untranslated };
}

function grafanaMetric(metric: Metric, id: string): Record<string, unknown> {
  switch (metric.type) {
    case "count":
    case "rate":
    case "ratio":
      return { id, type: "count" };
    case "percentile":
      return { id, type: "percentiles", field: metric.field ?? "", settings: { percents: [String(metric.percent ?? 95)] } };
    case "cardinality":
      return { id, type: "cardinality", field: metric.field ?? "" };
    default:
      return { id, type: metric.type, field: metric.field ?? "" };
  }
}

function termsBucket(field: string, size: number, id: string): Record<string, unknown> {
  return { id, type: "terms", field, settings: { min_doc_count: "1", order: "desc", orderBy: "_count", size: String(size) } };
}

const dateHistogram = (id: string, interval = "auto"): Record<string, unknown> => ({ id, type: "date_histogram", field: TIME_FIELD, settings: { interval, min_doc_count: "0", trimEdges: "0" } });

function target(panel: Panel, dashboard: Dashboard): { target: Record<string, unknown>; notes: string[] } {
  const { query, untranslated } = targetQuery(panel, dashboard);
  const notes: string[] = [];
  if (untranslated) notes.push("The Query DSL of this panel has no Lucene equivalent; add it as a filter in Grafana.");
  if (panel.metrics.some((metric) => metric.type === "ratio")) notes.push("Shares are exported as counts; Grafana computes ratios with an expression.");
  let metrics = panel.metrics.map((metric, position) => grafanaMetric(metric, String(position + 1)));
  let bucketAggs: Record<string, unknown>[] = [];
  const firstId = panel.metrics.length + 1;
  switch (panel.type) {
    case "timeseries":
    case "stat":
      bucketAggs = [...panel.split.slice(0, 1).map((split, position) => termsBucket(split.field, split.size, String(firstId + position))), dateHistogram(String(firstId + 1))];
      break;
    case "bars":
    case "pie":
    case "table":
      bucketAggs = panel.split.map((split, position) => termsBucket(split.field, split.size, String(firstId + position)));
      break;
    case "events":
      metrics = [{ id: "1", type: "raw_data", settings: { size: String(numberOption(panel, "size", 20)) } }];
      break;
    case "heatmap":
      metrics = [{ id: "1", type: "count" }];
      bucketAggs = [termsBucket(panel.split[0]?.field ?? "log_category", panel.split[0]?.size ?? 10, "2"), dateHistogram("3", "1h")];
      break;
    case "map":
      bucketAggs = [termsBucket(stringOption(panel, "field", MAP_DEFAULTS.field), 250, String(firstId))];
      break;
    case "graph":
    case "edges": {
      const fields = graphFields(panel);
      metrics = [{ id: "1", type: "count" }, { id: "2", type: "percentiles", field: fields.latency, settings: { percents: ["50", "95", "99"] } }];
      bucketAggs = [termsBucket(fields.source, 50, "3"), termsBucket(fields.target, 50, "4")];
      break;
    }
    case "distribution":
      metrics = [{ id: "1", type: "count" }];
      bucketAggs = [{ id: "2", type: "histogram", field: distributionField(panel), settings: { interval: String(distributionInterval(panel)), min_doc_count: "0" } }];
      break;
  }
  return { target: { refId: "A", datasource: DATASOURCE, query, alias: "", metrics, bucketAggs, timeField: TIME_FIELD }, notes };
}

function thresholdSteps(panel: Panel): Record<string, unknown> {
  const steps: Record<string, unknown>[] = [{ color: "green", value: null }];
  for (const threshold of [...panel.thresholds].sort((a, b) => (a.value ?? a.from ?? 0) - (b.value ?? b.from ?? 0))) {
    const value = threshold.value ?? threshold.from;
    if (value === undefined) continue;
    steps.push({ color: threshold.severity === "critical" ? "red" : threshold.severity === "warning" ? "orange" : "green", value });
  }
  return { mode: "absolute", steps };
}

export function grafanaDashboard(dashboard: Dashboard): Record<string, unknown> {
  const panels = dashboard.panels.map((panel, position) => {
    const { target: one, notes } = target(panel, dashboard);
    const description = [panel.description ?? "", ...notes].filter(Boolean).join(" ");
    return {
      id: position + 1,
      type: GRAFANA_TYPES[panel.type],
      title: panel.title,
      ...(description ? { description } : {}),
      datasource: DATASOURCE,
      gridPos: { x: panel.layout.x, y: panel.layout.y, w: panel.layout.w, h: panel.layout.h },
      targets: [one],
      fieldConfig: {
        defaults: {
          unit: GRAFANA_UNITS[panel.unit],
          thresholds: thresholdSteps(panel),
          ...(panel.thresholds.length > 0 && panel.type === "timeseries" ? { custom: { thresholdsStyle: { mode: panel.thresholds.some((threshold) => threshold.from !== undefined) ? "line+area" : "line" } } } : {}),
          displayName: panel.metrics.length === 1 && panel.split.length === 0 ? metricLabel(panel.metrics[0] ?? { type: "count" }) : undefined,
        },
        overrides: [],
      },
      options: {},
    };
  });
  return {
    __inputs: [{ name: "DS_LOGFLEET", label: "Logfleet", description: "Grafana's Elasticsearch data source pointed at Logfleet (or Elasticsearch), index logs-*, time field @timestamp", type: "datasource", pluginId: "elasticsearch", pluginName: "Elasticsearch" }],
    __requires: [
      { type: "grafana", id: "grafana", name: "Grafana", version: "10.0.0" },
      { type: "datasource", id: "elasticsearch", name: "Elasticsearch", version: "1.0.0" },
    ],
    uid: dashboard.id.slice(0, 40),
    title: dashboard.title,
    description: dashboard.description,
    tags: ["logfleet", ...dashboard.tags],
    timezone: "browser",
    editable: true,
    schemaVersion: 39,
    version: 1,
    time: dashboard.time,
    refresh: dashboard.refresh === "off" ? "" : dashboard.refresh,
    templating: {
      list: dashboard.variables.map((variable) => ({
        type: "query",
        name: variable.name,
        label: variable.label,
        datasource: DATASOURCE,
        query: JSON.stringify({ find: "terms", field: variable.field, size: 100 }),
        refresh: 2,
        includeAll: true,
        allValue: "*",
        multi: false,
        current: {},
        sort: 1,
      })),
    },
    annotations: {
      list: dashboard.annotations.map((annotation) => ({
        name: annotation.name,
        datasource: DATASOURCE,
        enable: true,
        iconColor: "purple",
        query: luceneOf(annotation.query) ?? "",
        timeField: TIME_FIELD,
        textField: annotation.textField,
        tagsField: "app_name",
      })),
    },
    panels,
  };
}

