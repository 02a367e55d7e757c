// Search responses read into what each chart draws. Pure: the same response gives the same
// data, and nothing here touches the page.

import type { Hit, SearchResponse } from "../api/elasticsearch";
import type { Bounds, Zone } from "../lib/time";
import { metricLabel, stringListOption, stringOption, type Metric, type Panel } from "./model";
import { distributionField, distributionInterval, graphFields, MAP_DEFAULTS, TIME_FIELD } from "./requests";

type Bucket = Record<string, unknown> & { key?: unknown; key_as_string?: string; doc_count?: number };

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function bucketsOf(aggregation: unknown): Bucket[] {
  if (!isRecord(aggregation) || !Array.isArray(aggregation.buckets)) return [];
  return aggregation.buckets.filter(isRecord);
}

/** A scalar as text; objects (not expected where this is used) as JSON. */
function scalarText(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

const countOf = (bucket: unknown): number => (isRecord(bucket) && typeof bucket.doc_count === "number" ? bucket.doc_count : 0);

/** A terms key as text (booleans come back as 0/1 with their name in key_as_string). */
export function keyText(bucket: Bucket): string {
  if (typeof bucket.key_as_string === "string" && typeof bucket.key !== "string") return bucket.key_as_string;
  return scalarText(bucket.key);
}

/** The value of `percent` in a percentiles aggregation (its keys are "95.0" or "95"). */
export function percentileValue(aggregation: unknown, percent: number): number | null {
  if (!isRecord(aggregation)) return null;
  const values = aggregation.values;
  if (isRecord(values)) {
    for (const [key, value] of Object.entries(values)) {
      if (Number(key) === percent) return typeof value === "number" ? value : null;
    }
  }
  if (Array.isArray(values)) {
    const found = values.filter(isRecord).find((entry) => entry.key === percent);
    return found && typeof found.value === "number" ? found.value : null;
  }
  return null;
}

/** A metric's value in a bucket whose events span `spanMs` (for per-minute rates). */
export function metricValue(metric: Metric, position: number, bucket: unknown, spanMs: number): number | null {
  const count = countOf(bucket);
  const aggregation = isRecord(bucket) ? bucket[`m${position}`] : undefined;
  switch (metric.type) {
    case "count": return count;
    case "rate": return spanMs > 0 ? count / (spanMs / 60_000) : null;
    case "ratio": return count > 0 ? countOf(aggregation) / count : null;
    case "percentile": return percentileValue(aggregation, metric.percent ?? 95);
    default: return isRecord(aggregation) && typeof aggregation.value === "number" ? aggregation.value : null;
  }
}

export interface Series {
  name: string;
  values: (number | null)[];
}

export interface TimeSeriesData {
  kind: "timeseries";
  times: number[];
  series: Series[];
  /** Length of one bucket. */
  step: number;
}

export interface StatData {
  kind: "stat";
  value: number | null;
  previous: number | null;
  count: number;
  times: number[];
  values: (number | null)[];
  step: number;
}

export interface BarsData {
  kind: "bars";
  field: string;
  items: { key: string; value: number; count: number }[];
  /** Events the top values leave out. */
  other: number;
}

export interface TableColumn {
  label: string;
  /** The field a key column holds (a click filters by it); null for metrics. */
  field: string | null;
}

export interface TableData {
  kind: "table";
  columns: TableColumn[];
  rows: { cells: (string | number | null)[]; count: number }[];
  /** Column positions holding metric values and their metric. */
  metrics: Metric[];
}

export interface EventsData {
  kind: "events";
  columns: string[];
  total: number;
  rows: { id: string; index: string; time: string; values: Record<string, unknown> }[];
}

export interface HeatmapData {
  kind: "heatmap";
  field: string;
  rows: string[];
  /** [hour, row, count] for every hour and row. */
  cells: [number, number, number][];
  max: number;
}

export interface MapData {
  kind: "map";
  field: string;
  countries: { code: string; name: string; value: number; count: number }[];
}

export interface GraphEdge {
  source: string;
  target: string;
  calls: number;
  errors: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  lastError: { time: string; text: string } | null;
}

export interface GraphData {
  kind: "graph";
  sourceField: string;
  targetField: string;
  nodes: { name: string; calls: number }[];
  edges: GraphEdge[];
}

export interface DistributionData {
  kind: "distribution";
  field: string;
  interval: number;
  buckets: { key: number; count: number }[];
  percentiles: { percent: number; value: number | null }[];
  stats: { count: number; min: number | null; max: number | null; avg: number | null };
}

export type PanelData = TimeSeriesData | StatData | BarsData | TableData | EventsData | HeatmapData | MapData | GraphData | DistributionData;

function hourIn(time: number, zone: Zone): number {
  if (zone === "utc") return new Date(time).getUTCHours();
  return new Date(time).getHours();
}

function sourceValue(hit: Hit, path: string): unknown {
  let value: unknown = hit._source;
  for (const part of path.split(".")) {
    if (!isRecord(value)) return undefined;
    // Dotted names may be kept flat in _source.
    if (path in value) return value[path];
    value = value[part];
  }
  return value;
}

/** Reads one panel's response; `bounds` and `step` are the range and interval it was asked for. */
export function readPanel(panel: Panel, response: SearchResponse, bounds: Bounds, step: number, zone: Zone): PanelData {
  const aggregations = response.aggregations ?? {};
  const span = bounds.to - bounds.from + 1;
  switch (panel.type) {
    case "timeseries": {
      // Each series' buckets over time, named by its split values ("auth → access_postgresql").
      const groups: { name: string; time: unknown }[] = [];
      if (panel.split.length === 0) groups.push({ name: "", time: aggregations.time });
      for (const outer of panel.split.length > 0 ? bucketsOf(aggregations.split) : []) {
        if (panel.split.length === 1) groups.push({ name: keyText(outer), time: outer.time });
        else for (const inner of bucketsOf(outer.split)) groups.push({ name: `${keyText(outer)} → ${keyText(inner)}`, time: inner.time });
      }
      const times = [...new Set(groups.flatMap((group) => bucketsOf(group.time).map((one) => Number(one.key))))].sort((a, b) => a - b);
      const series: Series[] = [];
      for (const group of groups) {
        const byTime = new Map(bucketsOf(group.time).map((one) => [Number(one.key), one]));
        panel.metrics.forEach((metric, position) => {
          const prefix = group.name;
          const name = panel.metrics.length === 1 && prefix ? prefix : [prefix, metricLabel(metric)].filter(Boolean).join(" · ");
          series.push({ name, values: times.map((time) => (byTime.has(time) ? metricValue(metric, position, byTime.get(time), step) : null)) });
        });
      }
      return { kind: "timeseries", times, series, step };
    }
    case "stat": {
      const metric = panel.metrics[0] ?? { type: "count" };
      const current = aggregations.current;
      const previous = aggregations.previous;
      const timeBuckets = bucketsOf(isRecord(current) ? current.time : undefined);
      return {
        kind: "stat",
        value: metricValue(metric, 0, current, span),
        previous: countOf(previous) > 0 || metric.type === "count" ? metricValue(metric, 0, previous, span) : null,
        count: countOf(current),
        times: timeBuckets.map((bucket) => Number(bucket.key)),
        values: timeBuckets.map((bucket) => metricValue(metric, 0, bucket, step)),
        step,
      };
    }
    case "bars":
    case "pie": {
      const metric = panel.metrics[0] ?? { type: "count" };
      const buckets = bucketsOf(aggregations.split0);
      const items = buckets.map((bucket) => ({ key: keyText(bucket), value: metricValue(metric, 0, bucket, span) ?? 0, count: countOf(bucket) }));
      if (metric.type === "percentile" || metric.type === "ratio") items.sort((a, b) => b.value - a.value);
      const other = isRecord(aggregations.split0) && typeof aggregations.split0.sum_other_doc_count === "number" ? aggregations.split0.sum_other_doc_count : 0;
      return { kind: "bars", field: panel.split[0]?.field ?? "", items, other };
    }
    case "table": {
      const columns: TableColumn[] = [
        ...panel.split.map((split) => ({ label: split.field, field: split.field })),
        ...panel.metrics.map((metric) => ({ label: metricLabel(metric), field: null })),
      ];
      const rows: TableData["rows"] = [];
      const walk = (bucket: unknown, level: number, keys: string[]): void => {
        if (level === panel.split.length) {
          rows.push({ cells: [...keys, ...panel.metrics.map((metric, position) => metricValue(metric, position, bucket, span))], count: countOf(bucket) });
          return;
        }
        for (const child of bucketsOf(isRecord(bucket) ? bucket[`split${level}`] : undefined)) walk(child, level + 1, [...keys, keyText(child)]);
      };
      walk({ ...aggregations, doc_count: response.hits.total?.value ?? 0 }, 0, []);
      const data: TableData = { kind: "table", columns, rows: panel.split.length === 0 && rows.every((row) => row.count === 0) ? [] : rows, metrics: panel.metrics };
      return data;
    }
    case "events": {
      const configured = stringListOption(panel, "columns");
      const hits = response.hits.hits;
      const columns = configured.length > 0 ? configured : ["message"];
      return {
        kind: "events",
        columns,
        total: response.hits.total?.value ?? hits.length,
        rows: hits.map((hit) => ({
          id: hit._id,
          index: hit._index,
          time: scalarText(sourceValue(hit, TIME_FIELD)),
          values: Object.fromEntries(columns.map((column) => [column, sourceValue(hit, column)])),
        })),
      };
    }
    case "heatmap": {
      const rowBuckets = bucketsOf(aggregations.split);
      const counts = rowBuckets.map(() => new Array<number>(24).fill(0));
      rowBuckets.forEach((bucket, row) => {
        for (const hour of bucketsOf(bucket.time)) {
          const slot = counts[row];
          if (slot) slot[hourIn(Number(hour.key), zone)] = (slot[hourIn(Number(hour.key), zone)] ?? 0) + countOf(hour);
        }
      });
      const cells: [number, number, number][] = [];
      counts.forEach((hours, row) => { hours.forEach((count, hour) => { cells.push([hour, row, count]); }); });
      return { kind: "heatmap", field: panel.split[0]?.field ?? "log_category", rows: rowBuckets.map(keyText), cells, max: Math.max(0, ...cells.map((cell) => cell[2])) };
    }
    case "map": {
      const metric = panel.metrics[0] ?? { type: "count" };
      return {
        kind: "map",
        field: stringOption(panel, "field", MAP_DEFAULTS.field),
        countries: bucketsOf(aggregations.countries).map((bucket) => {
          const name = bucketsOf(bucket.name)[0];
          return { code: keyText(bucket).toUpperCase(), name: name ? keyText(name) : keyText(bucket), value: metricValue(metric, 0, bucket, span) ?? 0, count: countOf(bucket) };
        }),
      };
    }
    case "graph":
    case "edges": {
      const fields = graphFields(panel);
      const edges: GraphEdge[] = [];
      for (const source of bucketsOf(aggregations.sources)) {
        for (const target of bucketsOf(source.targets)) {
          const errors = target.errors;
          const last = isRecord(errors) && isRecord(errors.last) && isRecord(errors.last.hits) && Array.isArray(errors.last.hits.hits) ? (errors.last.hits.hits[0] as Hit | undefined) : undefined;
          const errorText = last ? [sourceValue(last, "error_type"), sourceValue(last, "status_code"), sourceValue(last, "message")].filter((part) => part !== undefined && part !== null && part !== "").map(String) : [];
          edges.push({
            source: keyText(source),
            target: keyText(target),
            calls: countOf(target),
            errors: countOf(errors),
            p50: percentileValue(target.latency, 50),
            p95: percentileValue(target.latency, 95),
            p99: percentileValue(target.latency, 99),
            lastError: last ? { time: scalarText(sourceValue(last, TIME_FIELD)), text: errorText.join(" · ") } : null,
          });
        }
      }
      const calls = new Map<string, number>();
      for (const edge of edges) {
        calls.set(edge.source, (calls.get(edge.source) ?? 0) + edge.calls);
        calls.set(edge.target, (calls.get(edge.target) ?? 0) + edge.calls);
      }
      return { kind: "graph", sourceField: fields.source, targetField: fields.target, nodes: [...calls].map(([name, count]) => ({ name, calls: count })), edges };
    }
    case "distribution": {
      const stats = isRecord(aggregations.stats) ? aggregations.stats : {};
      const numberOrNull = (value: unknown): number | null => (typeof value === "number" ? value : null);
      return {
        kind: "distribution",
        field: distributionField(panel),
        interval: distributionInterval(panel),
        buckets: bucketsOf(aggregations.histogram).map((bucket) => ({ key: Number(bucket.key), count: countOf(bucket) })),
        percentiles: [50, 75, 90, 95, 99].map((percent) => ({ percent, value: percentileValue(aggregations.percentiles, percent) })),
        stats: { count: numberOrNull(stats.count) ?? 0, min: numberOrNull(stats.min), max: numberOrNull(stats.max), avg: numberOrNull(stats.avg) },
      };
    }
  }
}

/** True when a panel has nothing to draw (its empty state). */
export function isEmpty(data: PanelData): boolean {
  switch (data.kind) {
    case "timeseries": return data.series.every((series) => series.values.every((value) => value === null || value === 0));
    case "stat": return data.count === 0;
    case "bars": return data.items.length === 0;
    case "table": return data.rows.length === 0;
    case "events": return data.rows.length === 0;
    case "heatmap": return data.max === 0;
    case "map": return data.countries.length === 0;
    case "graph": return data.edges.length === 0;
    case "distribution": return data.stats.count === 0;
  }
}

/** Deployment markers for the time charts. */
export interface AnnotationMark {
  time: number;
  text: string;
  service: string;
}

export function readAnnotations(response: SearchResponse, textField: string): AnnotationMark[] {
  return response.hits.hits.map((hit) => ({
    time: Date.parse(scalarText(sourceValue(hit, TIME_FIELD))),
    text: scalarText(sourceValue(hit, textField)),
    service: scalarText(sourceValue(hit, "app_name")),
  })).filter((mark) => Number.isFinite(mark.time));
}

/** The values of each variable's drop-down. */
export function readVariables(response: SearchResponse): Record<string, string[]> {
  const values: Record<string, string[]> = {};
  for (const [name, aggregation] of Object.entries(response.aggregations ?? {})) values[name] = bucketsOf(aggregation).map(keyText);
  return values;
}
