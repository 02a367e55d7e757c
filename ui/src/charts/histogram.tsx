// The explorer's event histogram: stacked bars per interval (uPlot), drag across to zoom.
// Stacking is drawn by cumulative sums, top layer first, so each layer covers the one above
// it only up to its own height.

import { useMemo, useRef, useState } from "preact/hooks";
import uPlot from "uplot";
import { formatCount } from "../lib/format";
import { darkScheme, seriesColor } from "../lib/theme";
import { formatTime, type Zone } from "../lib/time";
import { CHART_PADDING, themedAxis, timeAxis, useUPlot, zoneOptions } from "./uplot";

export interface HistogramChartProps {
  times: number[];
  series: { name: string; counts: number[] }[];
  intervalMs: number;
  stackField: string;
  zone: Zone;
  height?: number;
  onZoom: (from: number, to: number) => void;
}

interface Hover {
  index: number;
  left: number;
  top: number;
}

export function HistogramChart({ times, series, intervalMs, stackField, zone, height = 150, onZoom }: HistogramChartProps) {
  const [hover, setHover] = useState<Hover | null>(null);
  // The chart is built once per shape; the latest callback is read when a drag ends.
  const zoom = useRef(onZoom);
  zoom.current = onZoom;
  const colors = useMemo(
    () => series.map((one, position) => seriesColor(one.name, position, stackField)),
    // The colours come from CSS, which changes with the scheme.
    [series, stackField, darkScheme.value],
  );
  const data = useMemo<uPlot.AlignedData>(() => {
    // Layer i is the sum of series 0..i; uPlot draws them top layer first.
    const layers: number[][] = [];
    let running = times.map(() => 0);
    for (const one of series) {
      running = running.map((sum, index) => sum + (one.counts[index] ?? 0));
      layers.push(running);
    }
    return [times, ...layers.reverse()];
  }, [times, series]);
  const seriesKey = series.map((one) => one.name).join("\u0000");
  const container = useUPlot(
    () => ({
      ...zoneOptions(zone),
      legend: { show: false },
      padding: CHART_PADDING,
      cursor: {
        drag: { x: true, y: false, setScale: false },
        points: { show: false },
        y: false,
      },
      select: { show: true, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        x: {
          time: true,
          range: (_u, min, max) => [min, max + intervalMs],
        },
        y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.05] },
      },
      axes: [
        timeAxis(zone),
        themedAxis({ size: 48, space: 24, values: (_u, ticks) => ticks.map((tick) => (Number.isInteger(tick) ? formatCount(tick) : "")) }),
      ],
      series: [
        {},
        ...[...series].reverse().map((one, reversedIndex) => {
          const color = colors[series.length - 1 - reversedIndex] ?? "#888";
          return {
            label: one.name,
            stroke: color,
            fill: color,
            width: 0,
            paths: uPlot.paths.bars?.({ size: [0.85, Infinity, 1], align: 1 }),
            points: { show: false },
          };
        }),
      ],
      hooks: {
        setSelect: [
          (u: uPlot) => {
            if (u.select.width > 3) {
              const from = u.posToVal(u.select.left, "x");
              const to = u.posToVal(u.select.left + u.select.width, "x");
              zoom.current(Math.floor(from), Math.ceil(to));
            }
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          },
        ],
        setCursor: [
          (u: uPlot) => {
            const index = u.cursor.idx;
            const left = u.cursor.left ?? -1;
            if (index === null || index === undefined || left < 0) setHover(null);
            else setHover({ index, left: left + u.over.offsetLeft, top: (u.cursor.top ?? 0) + u.over.offsetTop });
          },
        ],
      },
    }),
    data,
    [seriesKey, colors, zone, intervalMs],
    height,
  );
  const hovered = hover ? times[hover.index] : undefined;
  return (
    <div class="histogram-chart">
      <div class="histogram-plot" ref={container} onPointerLeave={() => { setHover(null); }} />
      {hover && hovered !== undefined ? (
        <div class={`chart-tooltip ${hover.left > (container.current?.clientWidth ?? 0) / 2 ? "tooltip-left" : ""}`} style={{ left: `${hover.left}px`, top: `${hover.top}px` }}>
          <div class="tooltip-time">{formatTime(hovered, zone, "s")}</div>
          {series.map((one, position) => (
            <div class="tooltip-row" key={one.name}>
              <span class="swatch" style={{ background: colors[position] }} />
              <span class="tooltip-name">{one.name}</span>
              <span class="tooltip-value">{formatCount(one.counts[hover.index] ?? 0)}</span>
            </div>
          ))}
        </div>
      ) : null}
      <div class="chart-legend">
        {series.map((one, position) => (
          <span class="legend-item" key={one.name}>
            <span class="swatch" style={{ background: colors[position] }} />
            {one.name === "" ? "(empty)" : one.name}
            <span class="legend-count">{formatCount(one.counts.reduce((sum, count) => sum + count, 0))}</span>
          </span>
        ))}
      </div>
    </div>
  );
}
