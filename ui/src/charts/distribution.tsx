// How a numeric field is distributed (uPlot bars over a histogram aggregation), with its
// percentiles drawn as labelled verticals and listed under the chart.

import { useMemo, useState } from "preact/hooks";
import uPlot from "uplot";
import { formatCount } from "../lib/format";
import { formatExact, formatValue, type ValueUnit } from "../lib/units";
import { cssColor, darkScheme } from "../lib/theme";
import { CHART_PADDING, hoverHook, themedAxis, useUPlot, type CursorHover } from "./uplot";

export function Distribution({ buckets, interval, percentiles, unit, height }: {
  buckets: { key: number; count: number }[];
  interval: number;
  percentiles: { percent: number; value: number | null }[];
  unit: ValueUnit;
  height: number;
}) {
  const [hover, setHover] = useState<CursorHover | null>(null);
  const data = useMemo<uPlot.AlignedData>(() => [buckets.map((bucket) => bucket.key + interval / 2), buckets.map((bucket) => bucket.count)], [buckets, interval]);
  const container = useUPlot(
    () => ({
      legend: { show: false },
      padding: CHART_PADDING,
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: { x: { time: false, range: (): uPlot.Range.MinMax => [buckets[0]?.key ?? 0, (buckets[buckets.length - 1]?.key ?? 0) + interval] } },
      axes: [
        themedAxis({ space: 60, values: (_chart, ticks) => ticks.map((tick) => formatValue(tick, unit)) }),
        themedAxis({ size: 48, space: 24, values: (_chart, ticks) => ticks.map((tick) => formatValue(tick, "count")) }),
      ],
      series: [
        {},
        { label: "events", stroke: cssColor("--series-1"), fill: cssColor("--series-1"), width: 0, paths: uPlot.paths.bars?.({ size: [0.92, Infinity], align: 0 }), points: { show: false } },
      ],
      plugins: [{
        hooks: {
          draw: [(chart: uPlot) => {
            const context = chart.ctx;
            const ratio = window.devicePixelRatio || 1;
            const { top, height: plotHeight, left, width } = chart.bbox;
            context.save();
            context.font = `${11 * ratio}px ${cssColor("--font-sans") || "system-ui, sans-serif"}`;
            context.setLineDash([4 * ratio, 3 * ratio]);
            context.lineWidth = 1.5 * ratio;
            percentiles.forEach((entry, position) => {
              if (entry.value === null || ![50, 95, 99].includes(entry.percent)) return;
              const x = chart.valToPos(entry.value, "x", true);
              if (x < left || x > left + width) return;
              const color = entry.percent === 50 ? cssColor("--series-2") : entry.percent === 95 ? cssColor("--level-warning") : cssColor("--level-error");
              context.strokeStyle = color;
              context.beginPath();
              context.moveTo(x, top);
              context.lineTo(x, top + plotHeight);
              context.stroke();
              context.fillStyle = color;
              context.textAlign = x > left + width - 40 * ratio ? "right" : "left";
              context.fillText(`p${entry.percent}`, x + (context.textAlign === "right" ? -4 : 4) * ratio, top + (12 + position * 2) * ratio);
            });
            context.restore();
          }],
        },
      }],
      hooks: { setCursor: [hoverHook(setHover)] },
    }),
    data,
    [interval, unit, JSON.stringify(percentiles), darkScheme.value, buckets.length],
    Math.max(80, height - 34),
  );
  const bucket = hover ? buckets[hover.index] : undefined;
  return (
    <div class="distribution">
      <div class="time-chart-plot" ref={container} onMouseLeave={() => { setHover(null); }} />
      {hover && bucket ? (
        <div class={`chart-tooltip ${hover.left > 240 ? "tooltip-left" : ""}`} style={{ left: `${hover.left}px`, top: `${Math.max(0, hover.top - 10)}px` }} data-testid="chart-tooltip">
          <div class="tooltip-time">{formatExact(bucket.key, unit)} – {formatExact(bucket.key + interval, unit)}</div>
          <div class="tooltip-row"><span class="tooltip-name">Events</span><span class="tooltip-value">{formatCount(bucket.count)}</span></div>
        </div>
      ) : null}
      <div class="percentile-list">
        {percentiles.map((entry) => (
          <span key={entry.percent} class="percentile" title={formatExact(entry.value, unit)}>
            <span class="percentile-name">p{entry.percent}</span> {formatValue(entry.value, unit)}
          </span>
        ))}
      </div>
    </div>
  );
}
