// Every panel's search, built from its definition and the dashboard's context (time range,
// variables, click filters), and the batch they go to the server in: one `_msearch` per
// refresh, each distinct search once.
//
// `now`-relative ranges are rounded outwards to the dashboard's interval (the start down, the
// end up to the end of its interval), as Kibana does, so an auto-refresh sends the very same
// request until a new interval starts and the server's request cache answers the partitions
// whose data did not change.

import { HISTORY_STREAM } from "../api/alerts";
import type { MultiSearchItem } from "../api/elasticsearch";
import { histogramInterval, resolveTime, zoneParameter, type Bounds, type HistogramInterval, type TimeRange, type Zone } from "../lib/time";
import { numberOption, objectOption, stringListOption, stringOption, type Annotation, type Metric, type Panel, type Variable } from "./model";
import type { DashboardFilter } from "./state";

export const TIME_FIELD = "@timestamp";
/** Buckets on a dashboard's time charts: fewer than the explorer's, panels are smaller. */
const TIME_BUCKETS = 60;

export interface QueryContext {
  bounds: Bounds;
  interval: HistogramInterval;
  zone: Zone;
  variables: { variable: Variable; value: string }[];
  filters: DashboardFilter[];
}

/**
 * Resolves a range to instants, rounding the ends that are relative to `now` outwards to the
 * interval of the dashboard's time charts. Null when the range does not parse or is empty.
 */
export function roundedBounds(range: TimeRange, zone: Zone, now: number): { bounds: Bounds; interval: HistogramInterval } | null {
  const from = resolveTime(range.from, now, zone, false);
  const to = resolveTime(range.to, now, zone, true);
  if (from === null || to === null || from >= to) return null;
  const interval = histogramInterval({ from, to }, TIME_BUCKETS);
  // Fixed intervals line up with the epoch, as the date histogram's buckets do; a calendar
  // interval (a day or more) rounds to the minute, enough for the cache.
  const step = interval.kind === "fixed_interval" ? interval.milliseconds : 60_000;
  const roundedFrom = range.from.trim().startsWith("now") ? Math.floor(from / step) * step : from;
  const roundedTo = range.to.trim().startsWith("now") ? Math.ceil((to + 1) / step) * step - 1 : to;
  return { bounds: { from: roundedFrom, to: roundedTo }, interval };
}

const iso = (time: number): string => new Date(time).toISOString();

export function rangeClause(bounds: Bounds): object {
  return { range: { [TIME_FIELD]: { gte: iso(bounds.from), lte: iso(bounds.to), format: "strict_date_optional_time" } } };
}

/** A value matching one field, or any of several. */
export function valueClause(fields: string[], value: string): object {
  const terms = fields.map((field) => ({ term: { [field]: value } }));
  if (terms.length === 1 && terms[0]) return terms[0];
  return { bool: { should: terms, minimum_should_match: 1 } };
}

export function panelQueryClause(panel: Panel): object {
  if (panel.query.language === "lucene") {
    const lucene = panel.query.lucene.trim();
    return lucene ? { query_string: { query: lucene, default_operator: "AND", analyze_wildcard: true } } : { match_all: {} };
  }
  return panel.query.dsl;
}

/** The filters a panel shares with the dashboard: variables (but those it ignores) and click filters. */
export function contextFilters(panel: Panel | null, context: QueryContext): object[] {
  const ignored = panel ? new Set(stringListOption(panel, "ignore_variables")) : new Set<string>();
  return [
    ...context.variables.filter(({ variable }) => !ignored.has(variable.name))
      .map(({ variable, value }) => valueClause([variable.field, ...variable.alsoFields], value)),
    ...context.filters.map((filter) => valueClause(filter.fields, filter.value)),
  ];
}

/** The panel's query within the time range and the dashboard's filters. */
export function panelQuery(panel: Panel, context: QueryContext, bounds = context.bounds): object {
  return { bool: { must: [panelQueryClause(panel)], filter: [rangeClause(bounds), ...contextFilters(panel, context)] } };
}

/** The aggregation computing a metric (none for those read from the bucket's doc_count). */
export function metricAggregation(metric: Metric): object | null {
  switch (metric.type) {
    case "count":
    case "rate":
      return null;
    case "ratio":
      return { filter: metric.filter ?? { match_all: {} } };
    case "percentile":
      return { percentiles: { field: metric.field ?? "", percents: [metric.percent ?? 95] } };
    default:
      return { [metric.type]: { field: metric.field ?? "" } };
  }
}

export function metricAggregations(metrics: Metric[]): Record<string, object> {
  const aggregations: Record<string, object> = {};
  metrics.forEach((metric, position) => {
    const aggregation = metricAggregation(metric);
    if (aggregation) aggregations[`m${position}`] = aggregation;
  });
  return aggregations;
}

function withAggregations(aggregation: object, aggregations: Record<string, object>): object {
  return Object.keys(aggregations).length > 0 ? { ...aggregation, aggs: aggregations } : aggregation;
}

export function dateHistogram(context: QueryContext, bounds = context.bounds, interval = context.interval): object {
  return {
    date_histogram: {
      field: TIME_FIELD,
      [interval.kind]: interval.value,
      time_zone: zoneParameter(context.zone),
      min_doc_count: 0,
      extended_bounds: { min: bounds.from, max: bounds.to },
    },
  };
}

/** Terms ordered by the first metric when the server can order by it, else by count. */
function termsAggregation(field: string, size: number, metrics: Metric[]): object {
  const first = metrics[0];
  const orderable = first && ["avg", "sum", "min", "max", "cardinality"].includes(first.type);
  return { terms: { field, size, ...(orderable ? { order: { m0: "desc" } } : {}) } };
}

/** The hour-of-day buckets of a heatmap: hourly, read back as hours in the dashboard's zone. */
const HOURLY: HistogramInterval = { kind: "fixed_interval", value: "1h", milliseconds: 3_600_000, label: "1 hour" };

/** A panel of type `stat` compares its range with the one just before, of the same length. */
export function previousBounds(bounds: Bounds): Bounds {
  const span = bounds.to - bounds.from + 1;
  return { from: bounds.from - span, to: bounds.from - 1 };
}

export const GRAPH_DEFAULTS = {
  source: "app_name",
  target: "target_service",
  latency: "duration_ms",
  errors: {
    bool: {
      should: [
        { term: { response_category: "server_error" } },
        { bool: { must: [{ exists: { field: "error_type" } }], must_not: [{ exists: { field: "status_code" } }] } },
      ],
      minimum_should_match: 1,
    },
  },
};

export function graphFields(panel: Panel): { source: string; target: string; latency: string; errors: object } {
  return {
    source: stringOption(panel, "source", GRAPH_DEFAULTS.source),
    target: stringOption(panel, "target", GRAPH_DEFAULTS.target),
    latency: stringOption(panel, "latency", GRAPH_DEFAULTS.latency),
    errors: objectOption(panel, "errors") ?? GRAPH_DEFAULTS.errors,
  };
}

export const MAP_DEFAULTS = { field: "geo.country_iso_code", nameField: "geo.country_name" };

/** The field a `distribution` panel shows: its option, or its first metric's field. */
export function distributionField(panel: Panel): string {
  return stringOption(panel, "field", panel.metrics.find((metric) => metric.field)?.field ?? "duration_ms");
}

/** The width of a `distribution` panel's bars, in the field's unit. */
export function distributionInterval(panel: Panel): number {
  return Math.max(Number.MIN_VALUE, numberOption(panel, "interval", 100));
}

/** An aggregations-only search of the panel's events (no hits, the exact total). */
function aggregate(panel: Panel, context: QueryContext, aggs: Record<string, object>, bounds = context.bounds): MultiSearchItem {
  return {
    index: panel.index,
    body: { size: 0, track_total_hits: true, query: panelQuery(panel, context, bounds), ...(Object.keys(aggs).length > 0 ? { aggs } : {}) },
  };
}

/** The search a panel needs. */
export function panelRequest(panel: Panel, context: QueryContext): MultiSearchItem {
  const metrics = metricAggregations(panel.metrics);
  switch (panel.type) {
    case "timeseries": {
      const overTime = withAggregations(dateHistogram(context), metrics);
      // Up to two split levels (a series per caller → callee pair), then time.
      const [outer, inner] = panel.split;
      const innerAggs: Record<string, object> = inner ? { split: { ...termsAggregation(inner.field, inner.size, []), aggs: { time: overTime } } } : { time: overTime };
      return aggregate(panel, context, outer ? { split: { ...termsAggregation(outer.field, outer.size, []), aggs: innerAggs } } : innerAggs);
    }
    case "stat": {
      const previous = previousBounds(context.bounds);
      const both = { from: previous.from, to: context.bounds.to };
      return aggregate(panel, context, {
        current: { filter: rangeClause(context.bounds), aggs: { ...metrics, time: withAggregations(dateHistogram(context), metrics) } },
        previous: withAggregations({ filter: rangeClause(previous) }, metrics),
      }, both);
    }
    case "bars":
    case "pie":
    case "table": {
      // Nested terms, one level per split field; the metrics at the leaves.
      let aggregations: Record<string, object> = metrics;
      for (let level = panel.split.length - 1; level >= 0; level -= 1) {
        const split = panel.split[level];
        if (!split) continue;
        aggregations = { [`split${level}`]: withAggregations(termsAggregation(split.field, split.size, level === panel.split.length - 1 ? panel.metrics : []), aggregations) };
      }
      return aggregate(panel, context, aggregations);
    }
    case "events": {
      const columns = stringListOption(panel, "columns");
      const sortField = stringOption(panel, "sort", TIME_FIELD);
      const order = stringOption(panel, "order", "desc") === "asc" ? "asc" : "desc";
      return {
        index: panel.index,
        body: {
          size: Math.min(500, Math.max(1, numberOption(panel, "size", 20))),
          track_total_hits: true,
          query: panelQuery(panel, context),
          sort: [{ [sortField]: { order, unmapped_type: sortField === TIME_FIELD ? "date" : "double" } }, ...(sortField === TIME_FIELD ? [] : [{ [TIME_FIELD]: { order: "desc" } }])],
          ...(columns.length > 0 ? { _source: [TIME_FIELD, ...columns] } : {}),
        },
      };
    }
    case "heatmap": {
      const split = panel.split[0] ?? { field: "log_category", size: 10 };
      return aggregate(panel, context, { split: { terms: { field: split.field, size: split.size }, aggs: { time: dateHistogram(context, context.bounds, HOURLY) } } });
    }
    case "map": {
      const field = stringOption(panel, "field", MAP_DEFAULTS.field);
      const nameField = stringOption(panel, "name_field", MAP_DEFAULTS.nameField);
      return aggregate(panel, context, { countries: { terms: { field, size: 250 }, aggs: { ...metrics, name: { terms: { field: nameField, size: 1 } } } } });
    }
    case "graph":
    case "edges": {
      const fields = graphFields(panel);
      return aggregate(panel, context, {
        sources: {
          terms: { field: fields.source, size: 50 },
          aggs: {
            targets: {
              terms: { field: fields.target, size: 50 },
              aggs: {
                latency: { percentiles: { field: fields.latency, percents: [50, 95, 99] } },
                errors: { filter: fields.errors, aggs: { last: { top_hits: { size: 1, sort: [{ [TIME_FIELD]: { order: "desc" } }], _source: [TIME_FIELD, "error_type", "status_code", "message"] } } } },
              },
            },
          },
        },
      });
    }
    case "distribution": {
      const field = distributionField(panel);
      return aggregate(panel, context, {
        stats: { stats: { field } },
        percentiles: { percentiles: { field, percents: [50, 75, 90, 95, 99] } },
        histogram: { histogram: { field, interval: distributionInterval(panel), min_doc_count: 0 } },
      });
    }
  }
}

/** The values a variable's drop-down offers: its field's top terms in the time range. */
export function variablesRequest(variables: Variable[], context: QueryContext): MultiSearchItem | null {
  if (variables.length === 0) return null;
  const aggs: Record<string, object> = {};
  for (const variable of variables) aggs[variable.name] = { terms: { field: variable.field, size: 100, order: { _key: "asc" } } };
  return { index: "logs-*", body: { size: 0, query: { bool: { filter: [rangeClause(context.bounds)] } }, aggs } };
}

/** The events an annotation marks on time charts (deployments), newest first. */
export function annotationRequest(annotation: Annotation, context: QueryContext): MultiSearchItem {
  return {
    index: annotation.index,
    body: {
      size: 100,
      query: { bool: { must: [annotation.query], filter: [rangeClause(context.bounds), ...contextFilters(null, context)] } },
      sort: [{ [TIME_FIELD]: { order: "desc" } }],
      _source: [TIME_FIELD, annotation.textField, "app_name", "service_version"],
    },
  };
}

/**
 * The changes of the alerts of `rules` that can shade the time range: from a week before it
 * (an alert that fired then may still fire), newest first.
 */
export function alertHistoryRequest(rules: string[], context: QueryContext): MultiSearchItem {
  const lookBack = 7 * 86_400_000;
  return {
    index: HISTORY_STREAM,
    body: {
      size: 1000,
      query: {
        bool: {
          filter: [
            { terms: { "alert.rule": rules } },
            { terms: { "alert.state": ["firing", "resolved", "inactive"] } },
            rangeClause({ from: context.bounds.from - lookBack, to: context.bounds.to }),
          ],
        },
      },
      sort: [{ [TIME_FIELD]: { order: "desc" } }],
      _source: [TIME_FIELD, "message", "alert"],
    },
  };
}

/** A batch of searches with each distinct one once; `slots[i]` is where request `i` went. */
export interface Batch {
  items: MultiSearchItem[];
  slots: number[];
}

export function batchRequests(requests: MultiSearchItem[]): Batch {
  const items: MultiSearchItem[] = [];
  const seen = new Map<string, number>();
  const slots = requests.map((request) => {
    const key = `${request.index}\n${JSON.stringify(request.body)}`;
    const known = seen.get(key);
    if (known !== undefined) return known;
    items.push(request);
    seen.set(key, items.length - 1);
    return items.length - 1;
  });
  return { items, slots };
}

/** The Lucene text the explorer gets for a panel: its query, the variables and the filters. */
export function explorerQuery(panel: Panel, context: QueryContext): { query: string; dsl: object | null } {
  const quote = (value: string): string => `"${value.replace(/["\\]/g, (character) => `\\${character}`)}"`;
  const field = (name: string): string => name.replace(/([+\-=&|><!(){}[\]^"~*?:\\/ ])/g, "\\$1");
  const clause = (fields: string[], value: string): string => {
    const parts = fields.map((one) => `${field(one)}:${quote(value)}`);
    return parts.length === 1 ? (parts[0] ?? "") : `(${parts.join(" OR ")})`;
  };
  const ignored = new Set(stringListOption(panel, "ignore_variables"));
  const parts = [
    ...context.variables.filter(({ variable }) => !ignored.has(variable.name)).map(({ variable, value }) => clause([variable.field, ...variable.alsoFields], value)),
    ...context.filters.map((filter) => clause(filter.fields, filter.value)),
  ];
  if (panel.query.language === "lucene") {
    const own = panel.query.lucene.trim();
    return { query: [own ? `(${own})` : "", ...parts].filter(Boolean).join(" AND "), dsl: null };
  }
  const translated = luceneOf(panel.query.dsl);
  return { query: [translated === null ? "" : translated === "" ? "" : `(${translated})`, ...parts].filter(Boolean).join(" AND "), dsl: translated === null ? panel.query.dsl : null };
}

/**
 * The Lucene equivalent of the Query DSL clauses dashboards use (term, terms, range, exists,
 * bool, match_all, query_string); null when a clause has none, and the explorer then shows
 * the DSL beside its query instead.
 */
export function luceneOf(clause: unknown): string | null {
  if (typeof clause !== "object" || clause === null) return null;
  const entries = Object.entries(clause as Record<string, unknown>);
  if (entries.length !== 1) return null;
  const [kind, body] = entries[0] ?? ["", null];
  const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
  const escapeField = (name: string): string => name.replace(/([+\-=&|><!(){}[\]^"~*?:\\/ ])/g, "\\$1");
  const literal = (value: unknown): string | null => {
    if (typeof value === "number" || typeof value === "boolean") return String(value);
    if (typeof value === "string") return `"${value.replace(/["\\]/g, (character) => `\\${character}`)}"`;
    return null;
  };
  switch (kind) {
    case "match_all": return "";
    case "query_string": return isRecord(body) && typeof body.query === "string" ? body.query : null;
    case "exists": return isRecord(body) && typeof body.field === "string" ? `_exists_:${escapeField(body.field)}` : null;
    case "term":
    case "match":
    case "match_phrase": {
      if (!isRecord(body)) return null;
      const [field, raw] = Object.entries(body)[0] ?? [];
      if (!field) return null;
      const value = literal(isRecord(raw) ? (raw.value ?? raw.query) : raw);
      return value === null ? null : `${escapeField(field)}:${value}`;
    }
    case "terms": {
      if (!isRecord(body)) return null;
      const [field, raw] = Object.entries(body)[0] ?? [];
      if (!field || !Array.isArray(raw)) return null;
      const values = raw.map(literal);
      if (values.some((value) => value === null)) return null;
      return `${escapeField(field)}:(${values.join(" OR ")})`;
    }
    case "range": {
      if (!isRecord(body)) return null;
      const [field, raw] = Object.entries(body)[0] ?? [];
      if (!field || !isRecord(raw)) return null;
      const low = raw.gte ?? raw.gt;
      const high = raw.lte ?? raw.lt;
      const bound = (value: unknown): string | null => (value === undefined ? "*" : typeof value === "number" ? String(value) : typeof value === "string" ? `"${value}"` : null);
      const lowText = bound(low);
      const highText = bound(high);
      if (lowText === null || highText === null) return null;
      return `${escapeField(field)}:${raw.gt !== undefined ? "{" : "["}${lowText} TO ${highText}${raw.lt !== undefined ? "}" : "]"}`;
    }
    case "bool": {
      if (!isRecord(body)) return null;
      const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
      const must = [...list(body.must), ...list(body.filter)].map(luceneOf);
      const should = list(body.should).map(luceneOf);
      const mustNot = list(body.must_not).map(luceneOf);
      if ([...must, ...should, ...mustNot].some((part) => part === null)) return null;
      const minimum = body.minimum_should_match;
      if (should.length > 0 && must.length > 0 && minimum !== 1 && minimum !== "1") return null;
      const parts = [
        ...must.filter((part) => part !== "").map((part) => `(${part ?? ""})`),
        ...(should.length > 0 ? [`(${should.map((part) => `(${part ?? ""})`).join(" OR ")})`] : []),
        ...mustNot.map((part) => `NOT (${part ?? ""})`),
      ];
      return parts.join(" AND ");
    }
    default:
      return null;
  }
}
