// A rule's preview: what it would have done over a past range, evaluated step by step by the
// server (`POST /_logfleet/alerts/rules/_preview`). The closest groups' values as lines, the
// threshold as a dashed line, every interval it would have fired shaded, and the intervals
// listed.

import { useMemo } from "preact/hooks";
import type { Preview, RuleBody } from "../api/alerts";
import type { ApiError } from "../api/client";
import { TimeChart, type Region } from "../charts/timeChart";
import { Empty, Failed, Loading } from "../components/StateMessage";
import { formatTime } from "../lib/time";
import { formatValue } from "../lib/units";
import { zone } from "../lib/zone";
import { durationMs, formatDuration, groupText, ruleUnit } from "./model";

export type PreviewState = { phase: "idle" } | { phase: "loading" } | { phase: "ready"; preview: Preview; range: string } | { phase: "error"; error: ApiError };

const RANGE_WORDS: Record<string, string> = { "1h": "hour", "6h": "6 h", "24h": "24 h", "7d": "7 days" };

type Severity = Region["severity"];
const severityOf = (severity: string | undefined): Severity => (severity === "critical" ? "critical" : severity === "info" ? "ok" : "warning");

/** The series on one time axis: every group's points at the union of their times. */
export function alignSeries(preview: Preview): { times: number[]; series: { name: string; values: (number | null)[] }[] } {
  const times = [...new Set(preview.series.flatMap((one) => one.points.map(([time]) => time)))].sort((a, b) => a - b);
  const position = new Map(times.map((time, index) => [time, index]));
  const series = preview.series.map((one) => {
    const values: (number | null)[] = times.map(() => null);
    for (const [time, value] of one.points) values[position.get(time) ?? 0] = value;
    return { name: groupText(one.group), values };
  });
  return { times, series };
}

export function RulePreview({ state, rule }: { state: PreviewState; rule: RuleBody | null }) {
  const chart = useMemo(() => (state.phase === "ready" ? alignSeries(state.preview) : null), [state]);
  if (state.phase === "idle") {
    return (
      <Empty title="Preview the rule">
        <p class="hint">Evaluates the rule over past events, as often as it would run, and shows when it would have fired — before you save it.</p>
      </Empty>
    );
  }
  if (state.phase === "loading") return <Loading label="Evaluating the rule over past events…" />;
  if (state.phase === "error") return <Failed error={state.error} title="The preview failed" />;
  const { preview } = state;
  const unit = rule ? ruleUnit(rule) : "count";
  const end = Date.parse(preview.to);
  const severity = severityOf(rule?.severity);
  const regions: Region[] = preview.fired.map((fired) => ({
    from: Date.parse(fired.from),
    to: fired.to === null ? null : Date.parse(fired.to),
    text: `would fire${groupText(fired.group) ? `: ${groupText(fired.group)}` : ""}`,
    severity,
    // Several groups' intervals overlap: each in its line's colour.
    ...(preview.series.length > 1 ? { series: groupText(fired.group) } : {}),
  }));
  const count = preview.fired.length;
  const words = RANGE_WORDS[state.range] ?? state.range;
  const thresholdLabel = preview.metric === "absence" ? null : `${preview.op} ${formatValue(preview.threshold, unit)}`;
  return (
    <div class="rule-preview-result" data-testid="preview-result" data-fired={count}>
      <p class="preview-sentence" data-testid="preview-sentence">
        {count === 0
          ? <>Would <strong>not</strong> have fired over the last {words}</>
          : <>Would have fired <strong>{count} time{count === 1 ? "" : "s"}</strong> over the last {words}</>}
        <span class="muted"> · {preview.evaluations.toLocaleString("en-US")} evaluations, every {preview.step}</span>
      </p>
      {chart && chart.series.length > 0 && chart.times.length > 0 ? (
        <div class="preview-chart">
          <TimeChart
            times={chart.times}
            series={chart.series}
            step={durationMs(preview.step) ?? 60_000}
            unit={unit}
            zone={zone.value}
            height={220}
            thresholds={thresholdLabel ? [{ value: preview.threshold, severity, label: `threshold ${thresholdLabel}` }] : []}
            regions={regions}
            fitThresholds
            connectGaps={false}
          />
          {preview.series.length >= 20 ? <p class="hint">The 20 groups that came closest to the threshold or went furthest past it.</p> : null}
        </div>
      ) : (
        <Empty title="No values">
          <p class="hint">No events matched the rule's index and query in this range, so there is nothing to draw.</p>
        </Empty>
      )}
      {count > 0 ? (
        <div class="data-table-scroll fired-list">
          <table class="data-table" data-testid="fired-intervals">
            <thead><tr><th class="th-plain">Group</th><th class="th-plain">From</th><th class="th-plain">To</th><th class="th-plain">Lasted</th><th class="th-plain numeric">Peak</th></tr></thead>
            <tbody>
              {preview.fired.map((fired, position) => {
                const from = Date.parse(fired.from);
                const to = fired.to === null ? null : Date.parse(fired.to);
                return (
                  <tr key={`${fired.from}-${position}`} data-row={position}>
                    <td>{groupText(fired.group) || <span class="muted">(all events)</span>}</td>
                    <td class="cell-time">{formatTime(from, zone.value, "s")}</td>
                    <td class="cell-time">{to === null ? <span class="state-badge state-firing">still firing</span> : formatTime(to, zone.value, "s")}</td>
                    <td>{formatDuration((to ?? end) - from)}</td>
                    <td class="numeric">{formatValue(fired.peak, unit)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
