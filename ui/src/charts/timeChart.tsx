// A dashboard's time chart (uPlot): one line per series, alert thresholds drawn as lines or
// bands, deployment markers as dashed verticals, the intervals an alert fired as shaded
// regions, and a tooltip with every series' exact value at the cursor (and the deployments
// and alerts of that interval).

import { useMemo, useState } from "preact/hooks";
import type uPlot from "uplot";
import { formatExact, formatValue, type ValueUnit } from "../lib/units";
import { cssColor, darkScheme, seriesColor } from "../lib/theme";
import { formatTime, type Zone } from "../lib/time";
import { CHART_PADDING, hoverHook, themedAxis, timeAxis, useUPlot, zoneOptions, type CursorHover } from "./uplot";

export interface ThresholdMark {
  value?: number;
  from?: number;
  to?: number;
  severity: "warning" | "critical" | "ok";
  label?: string;
}

/** An interval shaded across the chart's height: an alert that fired (`to` null: still firing). */
export interface Region {
  from: number;
  to: number | null;
  text: string;
  severity: ThresholdMark["severity"];
  /** The series it belongs to: drawn in that series' colour rather than the severity's. */
  series?: string;
}

export interface Marker {
  time: number;
  text: string;
  service: string;
}

/** The indices of values whose neighbours are both missing. */
function isolatedPoints(chart: uPlot, seriesIndex: number, show: boolean): number[] | null {
  if (!show) return null;
  const values = chart.data[seriesIndex] ?? [];
  const isolated: number[] = [];
  for (let index = 0; index < values.length; index += 1) {
    const missing = (at: number): boolean => values[at] === null || values[at] === undefined;
    if (!missing(index) && missing(index - 1) && missing(index + 1)) isolated.push(index);
  }
  return isolated;
}

export interface TimeChartProps {
  times: number[];
  series: { name: string; values: (number | null)[] }[];
  step: number;
  unit: ValueUnit;
  zone: Zone;
  height: number;
  thresholds?: ThresholdMark[];
  markers?: Marker[];
  regions?: Region[];
  /** Always widen the y range to show every threshold (an alert's preview). */
  fitThresholds?: boolean;
  /** Filled areas under a single series. */
  area?: boolean;
  /** Draw lines across intervals without a value (sampled gauges: CPU, memory). */
  connectGaps?: boolean;
  compact?: boolean;
}

const SEVERITY_COLORS: Record<ThresholdMark["severity"], string> = { ok: "--series-2", warning: "--level-warning", critical: "--level-error" };

export function severityColor(severity: ThresholdMark["severity"]): string {
  return cssColor(SEVERITY_COLORS[severity]);
}

function withAlpha(color: string, alpha: number): string {
  const match = /^#([0-9a-f]{6})$/i.exec(color);
  if (!match?.[1]) return color;
  const value = Number.parseInt(match[1], 16);
  return `rgba(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255}, ${alpha})`;
}

/** Draws thresholds (under the series) and markers (over them) on the chart's canvas. */
function decorations(thresholds: ThresholdMark[], markers: Marker[], regions: Region[], step: number, regionColor: (region: Region) => string): uPlot.Plugin {
  return {
    hooks: {
      drawClear: [
        (chart: uPlot) => {
          const context = chart.ctx;
          const { left, top, width, height } = chart.bbox;
          context.save();
          const ratio = window.devicePixelRatio || 1;
          // The axis ends at the last interval's start: a region that starts within that
          // interval is drawn at the right edge rather than not at all.
          const lastInterval = (chart.scales.x?.max ?? 0) + step;
          for (const region of regions) {
            if (region.from >= lastInterval) continue;
            const x0 = Math.max(left, Math.min(left + width - 4 * ratio, chart.valToPos(region.from, "x", true)));
            const x1 = Math.min(left + width, region.to === null ? left + width : chart.valToPos(region.to, "x", true));
            if (x1 < left || x0 > left + width) continue;
            const color = regionColor(region);
            context.fillStyle = withAlpha(color, 0.12);
            // At least two pixels wide, so a short alert is seen.
            context.fillRect(x0, top, Math.max(2 * ratio, x1 - x0), height);
            context.fillStyle = withAlpha(color, 0.8);
            context.fillRect(x0, top, Math.max(2 * ratio, x1 - x0), 3 * ratio);
          }
          for (const threshold of thresholds) {
            const color = severityColor(threshold.severity);
            if (threshold.from !== undefined || threshold.to !== undefined) {
              const high = chart.valToPos(threshold.to ?? (chart.scales.y?.max ?? 0), "y", true);
              const low = chart.valToPos(threshold.from ?? (chart.scales.y?.min ?? 0), "y", true);
              const y0 = Math.max(top, Math.min(high, low));
              const y1 = Math.min(top + height, Math.max(high, low));
              if (y1 > y0) {
                context.fillStyle = withAlpha(color, 0.1);
                context.fillRect(left, y0, width, y1 - y0);
              }
            }
          }
          context.restore();
        },
      ],
      draw: [
        (chart: uPlot) => {
          const context = chart.ctx;
          const { left, top, width, height } = chart.bbox;
          const ratio = window.devicePixelRatio || 1;
          context.save();
          context.font = `${11 * ratio}px ${cssColor("--font-sans") || "system-ui, sans-serif"}`;
          for (const threshold of thresholds) {
            if (threshold.value === undefined) continue;
            const y = chart.valToPos(threshold.value, "y", true);
            if (y < top || y > top + height) continue;
            const color = severityColor(threshold.severity);
            context.strokeStyle = color;
            context.lineWidth = 1.5 * ratio;
            context.setLineDash([6 * ratio, 4 * ratio]);
            context.beginPath();
            context.moveTo(left, y);
            context.lineTo(left + width, y);
            context.stroke();
            if (threshold.label) {
              context.fillStyle = color;
              context.textAlign = "right";
              context.fillText(threshold.label, left + width - 4 * ratio, y - 4 * ratio);
            }
          }
          context.strokeStyle = cssColor("--series-4");
          context.lineWidth = 1.5 * ratio;
          context.setLineDash([3 * ratio, 3 * ratio]);
          for (const marker of markers) {
            const x = chart.valToPos(marker.time, "x", true);
            if (x < left || x > left + width) continue;
            context.beginPath();
            context.moveTo(x, top);
            context.lineTo(x, top + height);
            context.stroke();
            context.fillStyle = cssColor("--series-4");
            context.beginPath();
            context.moveTo(x - 4 * ratio, top);
            context.lineTo(x + 4 * ratio, top);
            context.lineTo(x, top + 6 * ratio);
            context.fill();
          }
          context.restore();
        },
      ],
    },
  };
}

export function TimeChart({ times, series, step, unit, zone, height, thresholds = [], markers = [], regions = [], fitThresholds = false, area = false, compact = false, connectGaps = false }: TimeChartProps) {
  const [hover, setHover] = useState<CursorHover | null>(null);
  const colors = useMemo(() => series.map((one, position) => seriesColor(one.name, position, "")), [series.length, darkScheme.value]);
  const data = useMemo<uPlot.AlignedData>(() => [times, ...series.map((one) => one.values)], [times, series]);
  const regionColor = (region: Region): string => {
    const position = region.series === undefined ? -1 : series.findIndex((one) => one.name === region.series);
    return colors[position] ?? severityColor(region.severity);
  };
  // A threshold near the data widens the y range so its line is seen; one far above it would
  // flatten the series, so it is left out (the axis then shows the data stays below it).
  const dataMax = Math.max(0, ...series.flatMap((one) => one.values.filter((value): value is number => value !== null)));
  const thresholdValues = compact ? [] : thresholds.flatMap((threshold) => [threshold.value, threshold.from]).filter((value): value is number => value !== undefined && Number.isFinite(value) && (fitThresholds || value <= Math.max(dataMax * 2, 1e-9)));
  const container = useUPlot(
    () => ({
      ...zoneOptions(zone),
      legend: { show: false },
      padding: compact ? [4, 4, 0, 4] : CHART_PADDING,
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        x: { time: true },
        y: {
          range: (_chart: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax => {
            const low = Math.min(0, min ?? 0, ...thresholdValues.filter((value) => value < 0));
            const high = Math.max(max ?? 1, ...thresholdValues.map((value) => value * 1.1), low + 1e-9);
            return [low, high === low ? low + 1 : high * 1.05];
          },
        },
      },
      axes: compact
        ? [{ show: false }, { show: false }]
        : [timeAxis(zone), themedAxis({ size: 64, space: 28, values: (_chart, ticks) => ticks.map((tick) => formatValue(tick, unit)) })],
      series: [
        {},
        ...series.map((one, position) => ({
          label: one.name,
          stroke: colors[position] ?? "#888",
          width: compact ? 1.5 : 1.75,
          ...(area || compact ? { fill: withAlpha(colors[position] ?? "#888888", 0.12) } : {}),
          spanGaps: connectGaps,
          // Every point where there are few; else only values with no neighbour, which a line
          // could not show.
          points: { show: true, size: 5, filter: times.length <= 24 ? null : isolatedPoints },
        })),
      ],
      plugins: [decorations(compact ? [] : thresholds, markers, regions, step, regionColor)],
      hooks: { setCursor: [hoverHook(setHover)] },
    }),
    data,
    [series.map((one) => one.name).join("\u0000"), colors, zone, unit, JSON.stringify(thresholds), JSON.stringify(markers), JSON.stringify(regions), step, fitThresholds, compact, connectGaps, times.length <= 24],
    height,
  );
  const time = hover ? times[hover.index] : undefined;
  const nearby = time === undefined ? [] : markers.filter((marker) => marker.time >= time && marker.time < time + step);
  const alerting = time === undefined ? [] : regions.filter((region) => region.from < time + step && (region.to === null || region.to >= time));
  const rows = hover
    ? series.map((one, position) => ({ one, position, value: one.values[hover.index] ?? null }))
      .sort((a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity))
      .slice(0, 12)
    : [];
  return (
    // What the canvas draws, for tests and tools: the thresholds' labels and the regions.
    <div class="time-chart" data-thresholds={thresholds.map((threshold) => threshold.label ?? String(threshold.value ?? "")).join("|")} data-regions={regions.length}>
      <div class="time-chart-plot" ref={container} onMouseLeave={() => { setHover(null); }} />
      {hover && time !== undefined ? (
        <div class={`chart-tooltip ${hover.left > 260 ? "tooltip-left" : ""}`} style={{ left: `${hover.left}px`, top: `${Math.max(0, hover.top - 10)}px` }} data-testid="chart-tooltip">
          <div class="tooltip-time">{formatTime(time, zone, "s")}</div>
          {rows.map(({ one, position, value }) => (
            <div class="tooltip-row" key={one.name}>
              <span class="swatch" style={{ background: colors[position] }} />
              <span class="tooltip-name">{one.name || "value"}</span>
              <span class="tooltip-value">{formatExact(value, unit)}</span>
            </div>
          ))}
          {nearby.map((marker) => (
            <div class="tooltip-row tooltip-marker" key={`${marker.time}-${marker.text}`}>
              <span class="swatch marker-swatch" />
              <span class="tooltip-name">{marker.service ? `${marker.service}: ` : ""}{marker.text}</span>
            </div>
          ))}
          {alerting.slice(0, 4).map((region) => (
            <div class="tooltip-row tooltip-alert" key={`${region.from}-${region.text}`}>
              <span class="swatch" style={{ background: regionColor(region) }} />
              <span class="tooltip-name">{region.text}</span>
            </div>
          ))}
        </div>
      ) : null}
      {!compact && series.length > 1 ? (
        <div class="chart-legend">
          {series.map((one, position) => (
            <span class="legend-item" key={one.name}>
              <span class="swatch" style={{ background: colors[position] }} />
              {one.name === "" ? "(empty)" : one.name}
            </span>
          ))}
        </div>
      ) : null}
    </div>
  );
}
