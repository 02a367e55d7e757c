// A big number with its trend: the metric over the range, the change against the range just
// before (same length), and a sparkline of it over time.

import { formatExact, formatValue, type ValueUnit } from "../lib/units";
import type { Zone } from "../lib/time";
import { TimeChart, type ThresholdMark } from "./timeChart";

export function Stat({ value, previous, times, values, step, unit, zone, height, thresholds, higherIsBetter }: {
  value: number | null;
  previous: number | null;
  times: number[];
  values: (number | null)[];
  step: number;
  unit: ValueUnit;
  zone: Zone;
  height: number;
  thresholds: ThresholdMark[];
  higherIsBetter: boolean;
}) {
  const change = value !== null && previous !== null && previous !== 0 ? (value - previous) / Math.abs(previous) : null;
  const better = change === null || change === 0 ? null : (change > 0) === higherIsBetter;
  // The worst threshold the value crossed colours the number.
  const crossed = thresholds
    .filter((threshold) => threshold.value !== undefined && value !== null && value >= threshold.value)
    .sort((a, b) => (b.value ?? 0) - (a.value ?? 0))[0];
  return (
    <div class="stat">
      <div class="stat-main">
        <span class={`stat-value ${crossed ? `severity-${crossed.severity}` : ""}`} title={formatExact(value, unit)} data-testid="stat-value">
          {formatValue(value, unit)}
        </span>
        <span class={`stat-trend ${better === null ? "" : better ? "trend-good" : "trend-bad"}`} title={`Previous period: ${formatExact(previous, unit)}`}>
          {change === null ? "no earlier data" : `${change > 0 ? "▲" : change < 0 ? "▼" : "="} ${Math.abs(change * 100).toLocaleString("en-US", { maximumFractionDigits: 1 })}% vs previous period`}
        </span>
      </div>
      <TimeChart times={times} series={[{ name: "", values }]} step={step} unit={unit} zone={zone} height={Math.max(40, height - 70)} thresholds={thresholds} compact />
    </div>
  );
}
