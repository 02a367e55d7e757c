// A dashboard as data: the JSON that `/_logfleet/dashboards` stores and the files in the
// repository's dashboards/ folder hold. `parseDashboard` reads any JSON into this shape once,
// with defaults filled in and what does not fit reported, so the rest of the UI never checks
// types again. The schema is documented in ui/README.md ("Dashboards as data").

export type PanelType = "timeseries" | "stat" | "bars" | "pie" | "table" | "events" | "heatmap" | "map" | "graph" | "edges" | "distribution";

export const PANEL_TYPES: { type: PanelType; label: string }[] = [
  { type: "timeseries", label: "Time series" },
  { type: "stat", label: "Big number with trend" },
  { type: "bars", label: "Bars (top values)" },
  { type: "pie", label: "Donut (share of values)" },
  { type: "table", label: "Table (grouped metrics)" },
  { type: "events", label: "Table (events)" },
  { type: "heatmap", label: "Heatmap (value × hour of day)" },
  { type: "map", label: "World map (by country)" },
  { type: "graph", label: "Dependency graph" },
  { type: "edges", label: "Table (dependency edges)" },
  { type: "distribution", label: "Distribution with percentiles" },
];

export type MetricType = "count" | "avg" | "sum" | "min" | "max" | "cardinality" | "percentile" | "rate" | "ratio";

export const METRIC_TYPES: { type: MetricType; label: string; needsField: boolean }[] = [
  { type: "count", label: "Count", needsField: false },
  { type: "rate", label: "Count per minute", needsField: false },
  { type: "ratio", label: "Share matching a filter", needsField: false },
  { type: "avg", label: "Average", needsField: true },
  { type: "sum", label: "Sum", needsField: true },
  { type: "min", label: "Minimum", needsField: true },
  { type: "max", label: "Maximum", needsField: true },
  { type: "percentile", label: "Percentile", needsField: true },
  { type: "cardinality", label: "Distinct values", needsField: true },
];

export interface Metric {
  type: MetricType;
  field?: string;
  /** For `percentile`: 0–100. */
  percent?: number;
  /** For `ratio`: the Query DSL clause whose share of the bucket's events is shown. */
  filter?: object;
  label?: string;
}

export interface Split {
  field: string;
  size: number;
}

export type Unit = "count" | "ms" | "bytes" | "percent" | "share" | "per_minute";

/** A line (`value`) or a band (`from`–`to`) drawn on a chart, coloured by severity. */
export interface Threshold {
  value?: number;
  from?: number;
  to?: number;
  severity: "warning" | "critical" | "ok";
  label?: string;
}

export interface Layout {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** The query of a panel: Query DSL, or Lucene (`query_string`). */
export type PanelQuery = { language: "dsl"; dsl: object } | { language: "lucene"; lucene: string };

export interface Panel {
  id: string;
  title: string;
  description?: string;
  type: PanelType;
  index: string;
  query: PanelQuery;
  metrics: Metric[];
  split: Split[];
  unit: Unit;
  thresholds: Threshold[];
  /** An alert rule's id: a time chart draws its threshold and the intervals it fired. */
  alert?: string;
  layout: Layout;
  /** Options of one panel type (see ui/README.md): columns and sort of `events`, fields of `graph`… */
  options: Record<string, unknown>;
}

export interface Variable {
  /** The URL parameter (`var-service`) and the name panels refer to. */
  name: string;
  label: string;
  /** The field whose values the drop-down offers and the filter matches. */
  field: string;
  /** More fields the same value filters (either matches), e.g. `target_service` for a service. */
  alsoFields: string[];
}

export interface Annotation {
  name: string;
  index: string;
  query: object;
  /** The `_source` field shown as the marker's text. */
  textField: string;
}

export type RefreshInterval = "off" | "5s" | "30s" | "1m" | "5m";

export const REFRESH_INTERVALS: { value: RefreshInterval; label: string; milliseconds: number }[] = [
  { value: "off", label: "Off", milliseconds: 0 },
  { value: "5s", label: "5 seconds", milliseconds: 5_000 },
  { value: "30s", label: "30 seconds", milliseconds: 30_000 },
  { value: "1m", label: "1 minute", milliseconds: 60_000 },
  { value: "5m", label: "5 minutes", milliseconds: 300_000 },
];

export interface Dashboard {
  id: string;
  title: string;
  description: string;
  tags: string[];
  time: { from: string; to: string };
  refresh: RefreshInterval;
  variables: Variable[];
  annotations: Annotation[];
  panels: Panel[];
  prebuilt: boolean;
}

export const GRID_COLUMNS = 24;
export const DASHBOARD_ID = /^[A-Za-z0-9_-]{1,64}$/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const text = (value: unknown, fallback = ""): string => (typeof value === "string" ? value : fallback);
const number = (value: unknown, fallback: number): number => (typeof value === "number" && Number.isFinite(value) ? value : fallback);
const clamp = (value: number, low: number, high: number): number => Math.min(high, Math.max(low, Math.round(value)));

export const UNITS: { unit: Unit; label: string }[] = [
  { unit: "count", label: "Number" },
  { unit: "ms", label: "Milliseconds" },
  { unit: "bytes", label: "Bytes" },
  { unit: "percent", label: "Percent (0–100)" },
  { unit: "share", label: "Share (0–1 as %)" },
  { unit: "per_minute", label: "Per minute" },
];

function parseQuery(value: unknown): PanelQuery {
  if (isObject(value)) {
    if (value.language === "lucene") return { language: "lucene", lucene: text(value.lucene) };
    if (value.language === "dsl" && isObject(value.dsl)) return { language: "dsl", dsl: value.dsl };
  }
  if (typeof value === "string") return { language: "lucene", lucene: value };
  return { language: "dsl", dsl: { match_all: {} } };
}

function parseMetric(value: unknown): Metric | null {
  if (!isObject(value)) return null;
  const type = METRIC_TYPES.find((known) => known.type === value.type)?.type;
  if (!type) return null;
  const metric: Metric = { type };
  if (typeof value.field === "string") metric.field = value.field;
  if (typeof value.percent === "number") metric.percent = value.percent;
  if (isObject(value.filter)) metric.filter = value.filter;
  if (typeof value.label === "string") metric.label = value.label;
  return metric;
}

function parseThreshold(value: unknown): Threshold | null {
  if (!isObject(value)) return null;
  const severity = value.severity === "critical" || value.severity === "ok" ? value.severity : "warning";
  const threshold: Threshold = { severity };
  if (typeof value.value === "number") threshold.value = value.value;
  if (typeof value.from === "number") threshold.from = value.from;
  if (typeof value.to === "number") threshold.to = value.to;
  if (typeof value.label === "string") threshold.label = value.label;
  return threshold.value === undefined && threshold.from === undefined && threshold.to === undefined ? null : threshold;
}

export function parsePanel(value: unknown, position: number): Panel {
  const source = isObject(value) ? value : {};
  const type = PANEL_TYPES.find((known) => known.type === source.type)?.type ?? "timeseries";
  const layout = isObject(source.layout) ? source.layout : {};
  const metrics = (Array.isArray(source.metrics) ? source.metrics : []).map(parseMetric).filter((metric): metric is Metric => metric !== null);
  const split = (Array.isArray(source.split) ? source.split : [])
    .filter(isObject)
    .filter((one) => typeof one.field === "string" && one.field !== "")
    .map((one) => ({ field: text(one.field), size: clamp(number(one.size, 10), 1, 500) }));
  const w = clamp(number(layout.w, 12), 2, GRID_COLUMNS);
  return {
    id: text(source.id) || `panel-${position + 1}`,
    title: text(source.title) || "Untitled panel",
    ...(typeof source.description === "string" ? { description: source.description } : {}),
    type,
    index: text(source.index).trim() || "logs-*",
    query: parseQuery(source.query),
    metrics: metrics.length > 0 ? metrics : [{ type: "count" }],
    split,
    unit: UNITS.find((one) => one.unit === source.unit)?.unit ?? "count",
    thresholds: (Array.isArray(source.thresholds) ? source.thresholds : []).map(parseThreshold).filter((one): one is Threshold => one !== null),
    ...(typeof source.alert === "string" && source.alert.trim() !== "" ? { alert: source.alert.trim() } : {}),
    layout: { x: clamp(number(layout.x, 0), 0, GRID_COLUMNS - w), y: clamp(number(layout.y, position * 8), 0, 10_000), w, h: clamp(number(layout.h, 8), 3, 40) },
    options: isObject(source.options) ? source.options : {},
  };
}

/** Reads a dashboard from JSON (stored, imported or typed), filling in defaults. */
export function parseDashboard(value: unknown): Dashboard {
  const source = isObject(value) ? value : {};
  const time = isObject(source.time) ? source.time : {};
  const variables = (Array.isArray(source.variables) ? source.variables : []).filter(isObject)
    .filter((one) => typeof one.name === "string" && typeof one.field === "string")
    .map((one) => ({
      name: text(one.name),
      label: text(one.label) || text(one.name),
      field: text(one.field),
      alsoFields: (Array.isArray(one.also_fields) ? one.also_fields : []).filter((field): field is string => typeof field === "string"),
    }));
  const annotations = (Array.isArray(source.annotations) ? source.annotations : []).filter(isObject).map((one) => ({
    name: text(one.name) || "Annotations",
    index: text(one.index) || "logs-*",
    query: isObject(one.query) ? one.query : { match_all: {} },
    textField: text(one.text_field) || "message",
  }));
  return {
    id: text(source.id),
    title: text(source.title) || "Untitled dashboard",
    description: text(source.description),
    tags: (Array.isArray(source.tags) ? source.tags : []).filter((tag): tag is string => typeof tag === "string"),
    time: { from: text(time.from) || "now-1h", to: text(time.to) || "now" },
    refresh: REFRESH_INTERVALS.find((one) => one.value === source.refresh)?.value ?? "off",
    variables,
    annotations,
    panels: (Array.isArray(source.panels) ? source.panels : []).map(parsePanel),
    prebuilt: source.prebuilt === true,
  };
}

/** The JSON a dashboard is stored and exported as (what the server keeps, without its own members). */
export function dashboardJson(dashboard: Dashboard): Record<string, unknown> {
  return {
    id: dashboard.id,
    title: dashboard.title,
    ...(dashboard.description ? { description: dashboard.description } : {}),
    ...(dashboard.tags.length > 0 ? { tags: dashboard.tags } : {}),
    time: dashboard.time,
    refresh: dashboard.refresh,
    variables: dashboard.variables.map((variable) => ({
      name: variable.name,
      label: variable.label,
      field: variable.field,
      ...(variable.alsoFields.length > 0 ? { also_fields: variable.alsoFields } : {}),
    })),
    annotations: dashboard.annotations.map((annotation) => ({ name: annotation.name, index: annotation.index, query: annotation.query, text_field: annotation.textField })),
    panels: dashboard.panels.map(panelJson),
  };
}

export function panelJson(panel: Panel): Record<string, unknown> {
  return {
    id: panel.id,
    title: panel.title,
    ...(panel.description ? { description: panel.description } : {}),
    type: panel.type,
    index: panel.index,
    query: panel.query,
    metrics: panel.metrics,
    ...(panel.split.length > 0 ? { split: panel.split } : {}),
    unit: panel.unit,
    ...(panel.thresholds.length > 0 ? { thresholds: panel.thresholds } : {}),
    ...(panel.alert ? { alert: panel.alert } : {}),
    layout: panel.layout,
    ...(Object.keys(panel.options).length > 0 ? { options: panel.options } : {}),
  };
}

/** A metric's name as a column or series shows it. */
export function metricLabel(metric: Metric): string {
  if (metric.label) return metric.label;
  switch (metric.type) {
    case "count": return "Count";
    case "rate": return "Per minute";
    case "ratio": return "Share";
    case "percentile": return `p${metric.percent ?? 95} ${metric.field ?? ""}`.trim();
    case "cardinality": return `Distinct ${metric.field ?? ""}`.trim();
    default: return `${metric.type} ${metric.field ?? ""}`.trim();
  }
}

/** An option of a panel, as a string (or the fallback). */
export function stringOption(panel: Panel, name: string, fallback: string): string {
  const value = panel.options[name];
  return typeof value === "string" && value !== "" ? value : fallback;
}

export function numberOption(panel: Panel, name: string, fallback: number): number {
  return number(panel.options[name], fallback);
}

export function stringListOption(panel: Panel, name: string): string[] {
  const value = panel.options[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

export function objectOption(panel: Panel, name: string): object | null {
  const value = panel.options[name];
  return isObject(value) ? value : null;
}

/** The lowest free row under every panel: where a new panel goes. */
export function nextRow(panels: Panel[]): number {
  return panels.reduce((bottom, panel) => Math.max(bottom, panel.layout.y + panel.layout.h), 0);
}

/** A fresh panel id not used in `panels`. */
export function newPanelId(panels: Panel[]): string {
  const used = new Set(panels.map((panel) => panel.id));
  for (let number = panels.length + 1; ; number += 1) {
    const id = `panel-${number}`;
    if (!used.has(id)) return id;
  }
}
