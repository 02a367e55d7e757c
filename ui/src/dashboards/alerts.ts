// What a panel linked to an alert rule draws: the rule's threshold, when the panel shows the
// rule's own measure (converted to the panel's unit), and the intervals the rule's alerts
// fired, from the history stream, as shaded regions with the alert in their tooltip.

import type { StoredRule } from "../api/alerts";
import type { SearchResponse } from "../api/elasticsearch";
import type { Region } from "../charts/timeChart";
import { durationMs, firedSpans, formatDuration, groupText, readHistoryEvent, ruleUnit, type HistoryEvent } from "../alerts/model";
import { formatValue } from "../lib/units";
import type { Metric, Panel, Threshold } from "./model";

/** A linked rule as the dashboard read it: the rule (absent when it does not exist) and its regions. */
export interface PanelAlert {
  rule: StoredRule | null;
  regions: Region[];
}

const PERCENTILES: Record<string, number> = { p50: 50, p95: 95, p99: 99 };

/** Whether a panel's metric is the rule's measure (the same aggregation of the same field). */
function sameMeasure(metric: Metric, rule: StoredRule): boolean {
  const { metric: measure, field } = rule.condition;
  switch (measure) {
    case "count": return metric.type === "count" || metric.type === "rate";
    case "ratio": return metric.type === "ratio";
    case "p50": case "p95": case "p99": return metric.type === "percentile" && (metric.percent ?? 95) === PERCENTILES[measure] && metric.field === field;
    case "avg": case "max": case "min": case "sum": case "cardinality": return metric.type === measure && metric.field === field;
    default: return false;
  }
}

const severityOf = (severity: string | undefined): Threshold["severity"] => (severity === "critical" ? "critical" : severity === "info" ? "ok" : "warning");

/**
 * The rule's threshold in the panel's unit, labelled, when the panel shows its measure. A
 * count over the rule's window is scaled to the chart's interval (10 per 5m is 1 per 30s),
 * as a rate it is the same line; a sum or a distinct count is drawn only when the interval is
 * the window, since it does not scale.
 */
export function alertThreshold(panel: Panel, rule: StoredRule, stepMs: number): Threshold | null {
  const { metric: measure, threshold, op = ">" } = rule.condition;
  const metric = panel.metrics.find((one) => sameMeasure(one, rule));
  if (threshold === undefined || !metric) return null;
  const severity = severityOf(rule.severity);
  const window = rule.window ?? "5m";
  const windowMs = durationMs(window);
  if (measure === "count" && windowMs) {
    const value = metric.type === "rate" ? threshold / (windowMs / 60_000) : threshold * (stepMs / windowMs);
    const scaled = metric.type === "rate" ? ` (${formatValue(value, "per_minute")})` : stepMs === windowMs ? "" : ` (${formatValue(value, "count")} per ${formatDuration(stepMs)})`;
    return { value, severity, label: `alert ${op} ${threshold} per ${window}${scaled}` };
  }
  if ((measure === "sum" || measure === "cardinality") && windowMs !== stepMs) return null;
  // Ratios are percentages in rules; a panel may show them as shares (0–1).
  const value = measure === "ratio" && panel.unit === "share" ? threshold / 100 : threshold;
  return { value, severity, label: `alert ${op} ${formatValue(value, panel.unit)}` };
}

/** The panel's thresholds with the rule's, which replaces a line drawn at the same value. */
export function thresholdsWithAlert(panel: Panel, alert: PanelAlert | undefined, stepMs: number): Threshold[] {
  const threshold = alert?.rule ? alertThreshold(panel, alert.rule, stepMs) : null;
  if (!threshold) return panel.thresholds;
  return [...panel.thresholds.filter((one) => one.value === undefined || Math.abs(one.value - (threshold.value ?? 0)) > 1e-9), threshold];
}

/** Each linked rule's fired intervals, from the history search's answer. */
export function readAlertRegions(response: SearchResponse, rules: Record<string, StoredRule>): Record<string, Region[]> {
  const events = response.hits.hits.map((hit) => readHistoryEvent(hit._source)).filter((event): event is HistoryEvent => event !== null);
  const regions: Record<string, Region[]> = {};
  for (const span of firedSpans(events)) {
    const group = groupText(span.group);
    const rule = rules[span.rule];
    const peak = span.peak === null ? "" : ` (${formatValue(span.peak, rule ? ruleUnit(rule) : "count")})`;
    (regions[span.rule] ??= []).push({
      from: span.from,
      to: span.to,
      text: `${span.name}${group ? `: ${group}` : ""}${span.to === null ? " — firing" : " — fired"}${peak}`,
      severity: severityOf(rule?.severity),
    });
  }
  return regions;
}
