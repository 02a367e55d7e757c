// Lines over time (uPlot): a numeric field's minimum, average and maximum per interval, or a
// count per interval.

import { useMemo } from "preact/hooks";
import type uPlot from "uplot";
import { darkScheme, seriesColor } from "../lib/theme";
import { type Zone } from "../lib/time";
import { CHART_PADDING, themedAxis, timeAxis, useUPlot, zoneOptions } from "./uplot";

export interface TimeSeriesChartProps {
  times: number[];
  series: { name: string; values: (number | null)[] }[];
  zone: Zone;
  height?: number;
}

export function TimeSeriesChart({ times, series, zone, height = 180 }: TimeSeriesChartProps) {
  const colors = useMemo(() => series.map((one, position) => seriesColor(one.name, position, "")), [series, darkScheme.value]);
  const data = useMemo<uPlot.AlignedData>(() => [times, ...series.map((one) => one.values)], [times, series]);
  const container = useUPlot(
    () => ({
      ...zoneOptions(zone),
      legend: { show: true, live: true },
      padding: CHART_PADDING,
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [timeAxis(zone), themedAxis({ size: 56, space: 24 })],
      series: [
        {},
        ...series.map((one, position) => ({
          label: one.name,
          stroke: colors[position] ?? "#888",
          width: 1.5,
          spanGaps: false,
          points: { show: times.length < 40 },
        })),
      ],
    }),
    data,
    [series.map((one) => one.name).join("\u0000"), colors, zone],
    height,
  );
  return <div class="timeseries-chart" ref={container} />;
}
