// Matching events over the range, stacked by level or a field the user picks; drag to zoom.

import { HistogramChart } from "../charts/histogram";
import { Icon } from "../components/Icon";
import { Empty, Failed, Loading } from "../components/StateMessage";
import { formatCount } from "../lib/format";
import { widenRange } from "../lib/time";
import { fieldsResult, histogram, results } from "./search";
import { histogramOpen, setPreference, TIME_FIELD, updateView, view, zone } from "./state";

export function HistogramPanel() {
  const result = histogram.value;
  const open = histogramOpen.value;
  const stack = view.value.stack;
  const stackable = [...fieldsResult.value.fields.values()].filter((field) => field.aggregatable && field.type !== "date" && field.name !== TIME_FIELD);
  const total = results.value.state === "ready" || results.value.state === "empty" ? results.value.total : result.total;
  const relation = results.value.totalRelation;
  // The query bar shows a refused query's error; the chart need not repeat it.
  const queryFailed = result.error?.status === 400 && view.value.query.trim() !== "";
  return (
    <section class={`panel histogram-panel ${open ? "" : "collapsed"}`} data-panel="Histogram" data-state={result.state}>
      <header class="panel-header">
        <button
          type="button"
          class="icon-button"
          aria-expanded={open}
          aria-label={open ? "Collapse the histogram" : "Expand the histogram"}
          onClick={() => { setPreference("histogram", !open); }}
        >
          <Icon name={open ? "chevronDown" : "chevronRight"} />
        </button>
        <span class="hits-count" data-testid="hits-count">
          {results.value.state === "error" ? "—" : results.value.state === "loading" && result.state === "loading" ? "…" : `${relation === "gte" ? "≥ " : ""}${formatCount(total)}`}
          <span class="hits-label"> events</span>
        </span>
        {result.interval ? <span class="panel-note">per {result.interval.label}</span> : null}
        <span class="spacer" />
        <label class="inline-label">
          Stack by
          <select
            class="select"
            value={stack}
            onChange={(event) => { updateView({ stack: event.currentTarget.value }); }}
          >
            <option value="">nothing</option>
            {stackable.some((field) => field.name === stack) || stack === "" ? null : <option value={stack}>{stack}</option>}
            {stackable.map((field) => <option key={field.name} value={field.name}>{field.name}</option>)}
          </select>
        </label>
      </header>
      {open ? (
        <div class="panel-body histogram-body">
          {result.state === "loading" && result.times.length === 0 ? <Loading label="Counting events…" /> : null}
          {result.state === "error" && result.error && queryFailed ? <Empty title="No histogram: the query failed (the error is under the query bar)" /> : null}
          {result.state === "error" && result.error && !queryFailed ? <Failed error={result.error} title="The histogram failed" /> : null}
          {result.state === "empty" ? (
            <Empty title={fieldsResult.value.fields.has(TIME_FIELD) ? "No events in this range" : `No ${TIME_FIELD} field in ${view.value.index}: nothing to chart over time`} />
          ) : null}
          {(result.state === "ready" || (result.state === "loading" && result.times.length > 0)) && result.interval ? (
            <div class={result.state === "loading" ? "refreshing" : ""}>
              <HistogramChart
                times={result.times}
                series={result.series}
                intervalMs={result.interval.milliseconds}
                stackField={stack}
                zone={zone.value}
                onZoom={(from, to) => { updateView({ range: { from: new Date(from).toISOString(), to: new Date(to).toISOString() } }); }}
              />
            </div>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

export function widenCurrentRange(): void {
  updateView({ range: widenRange(view.peek().range, zone.peek()) });
}
