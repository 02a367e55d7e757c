// "Visualize" for one field: its top values as a bar list, or — for numbers and dates — how it
// is distributed over the range (uPlot): min, average and max per interval for numbers, events
// per interval of that date for dates.

import { useEffect, useState } from "preact/hooks";
import { asApiError, isAbort, type ApiError } from "../api/client";
import { BarList } from "../charts/barList";
import { TimeSeriesChart } from "../charts/timeseries";
import { Icon } from "../components/Icon";
import { Empty, Failed, Loading } from "../components/StateMessage";
import { isDate, isNumeric } from "../lib/fields";
import { histogramInterval, zoneParameter } from "../lib/time";
import { visualized } from "./FieldSidebar";
import { loadedStats, topValues } from "./fieldStats";
import { aggregate, bounds, fieldsResult, results, type PanelState } from "./search";
import { view, zone } from "./state";

interface Chart {
  state: PanelState;
  kind: "bars" | "series";
  items: { label: string; count: number }[];
  total: number;
  times: number[];
  series: { name: string; values: (number | null)[] }[];
  note: string;
  error: ApiError | null;
}

const EMPTY: Chart = { state: "loading", kind: "bars", items: [], total: 0, times: [], series: [], note: "", error: null };

interface StatsBucket { key: number; doc_count: number; stats?: { min: number | null; max: number | null; avg: number | null } }

export function VisualizePanel({ field }: { field: string }) {
  const info = fieldsResult.value.fields.get(field);
  const [chart, setChart] = useState<Chart>(EMPTY);
  const range = bounds.value;
  const runKey = `${view.value.index}\u0000${view.value.query}\u0000${range?.from ?? 0}\u0000${range?.to ?? 0}\u0000${results.value.total}`;
  useEffect(() => {
    const controller = new AbortController();
    const fail = (error: unknown): void => {
      if (!isAbort(error)) setChart({ ...EMPTY, state: "error", error: asApiError(error) });
    };
    setChart((current) => ({ ...current, state: "loading" }));
    if (!info?.aggregatable || !range) {
      const stats = loadedStats.peek().fields.get(field);
      const items = stats ? topValues(stats, 20) : [];
      setChart({ ...EMPTY, state: items.length > 0 ? "ready" : "empty", kind: "bars", items, total: loadedStats.peek().hits, note: `Top 20 values in the ${loadedStats.peek().hits} loaded events (${field} is not aggregatable)` });
      return undefined;
    }
    const interval = histogramInterval(range, 100);
    const dateHistogram = (on: string) => ({
      field: on, [interval.kind]: interval.value, time_zone: zoneParameter(zone.peek()), min_doc_count: 0,
      extended_bounds: { min: range.from, max: range.to },
    });
    if (isNumeric(info)) {
      aggregate({ over_time: { date_histogram: dateHistogram("@timestamp"), aggs: { stats: { stats: { field } } } } }, controller.signal).then((response) => {
        const buckets = (response.aggregations?.over_time as { buckets?: StatsBucket[] } | undefined)?.buckets ?? [];
        const times = buckets.map((bucket) => bucket.key);
        const pick = (key: "min" | "avg" | "max") => buckets.map((bucket) => (bucket.doc_count > 0 ? (bucket.stats?.[key] ?? null) : null));
        const any = buckets.some((bucket) => bucket.stats?.avg !== null && bucket.stats?.avg !== undefined);
        setChart({ ...EMPTY, state: any ? "ready" : "empty", kind: "series", times, series: [{ name: "max", values: pick("max") }, { name: "avg", values: pick("avg") }, { name: "min", values: pick("min") }], note: `Minimum, average and maximum of ${field} per ${interval.label}, over all matching events` });
      }, fail);
    } else if (isDate(info)) {
      aggregate({ over_time: { date_histogram: dateHistogram(field) } }, controller.signal).then((response) => {
        const buckets = (response.aggregations?.over_time as { buckets?: StatsBucket[] } | undefined)?.buckets ?? [];
        setChart({ ...EMPTY, state: buckets.some((bucket) => bucket.doc_count > 0) ? "ready" : "empty", kind: "series", times: buckets.map((bucket) => bucket.key), series: [{ name: "events", values: buckets.map((bucket) => bucket.doc_count) }], note: `Matching events per ${interval.label} of ${field}` });
      }, fail);
    } else {
      aggregate({ values: { terms: { field, size: 20 } } }, controller.signal).then((response) => {
        const buckets = (response.aggregations?.values as { buckets?: { key: unknown; key_as_string?: string; doc_count: number }[] } | undefined)?.buckets ?? [];
        const items = buckets.map((bucket) => ({ label: bucket.key_as_string ?? String(bucket.key), count: bucket.doc_count }));
        const total = response.hits.total?.value ?? 0;
        setChart({ ...EMPTY, state: items.length > 0 ? "ready" : "empty", kind: "bars", items, total, note: `Top 20 values of ${field} over all ${total.toLocaleString("en-US")} matching events (terms aggregation)` });
      }, fail);
    }
    return () => { controller.abort(); };
  }, [field, runKey, zone.value]);
  return (
    <section class="panel visualize-panel" data-panel={`Visualize ${field}`} data-state={chart.state}>
      <header class="panel-header">
        <Icon name="chart" />
        <strong class="panel-title">{field}</strong>
        <span class="panel-note">{chart.note}</span>
        <span class="spacer" />
        <button type="button" class="icon-button" aria-label="Close the visualization" onClick={() => { visualized.value = null; }}>
          <Icon name="close" />
        </button>
      </header>
      <div class="panel-body">
        {chart.state === "loading" ? <Loading /> : null}
        {chart.state === "error" && chart.error ? <Failed error={chart.error} /> : null}
        {chart.state === "empty" ? <Empty title={`No values of ${field} in this range`} /> : null}
        {chart.state === "ready" && chart.kind === "bars" ? <BarList items={chart.items} total={chart.total} /> : null}
        {chart.state === "ready" && chart.kind === "series" ? <TimeSeriesChart times={chart.times} series={chart.series} zone={zone.value} /> : null}
      </div>
    </section>
  );
}
