// Values of a field by hour of day (ECharts heatmap): a cell per value and hour, shaded by
// its count; a click on a cell filters the dashboard by the row's value.

import { useMemo } from "preact/hooks";
import { formatCount, showControls, truncate } from "../lib/format";
import { cssColor, darkScheme } from "../lib/theme";
import { EChart } from "./echarts";

const HOURS = Array.from({ length: 24 }, (_, hour) => `${String(hour).padStart(2, "0")}:00`);

export function Heatmap({ rows, cells, max, height, zoneLabel, onSelect }: {
  rows: string[];
  cells: [number, number, number][];
  max: number;
  height: number;
  zoneLabel: string;
  onSelect?: (row: string) => void;
}) {
  const option = useMemo(() => ({
    animation: false,
    grid: { left: 8, right: 16, top: 8, bottom: 52, containLabel: true },
    xAxis: { type: "category", data: HOURS, splitArea: { show: false }, axisLabel: { color: cssColor("--text-muted"), interval: 1 }, axisLine: { lineStyle: { color: cssColor("--border") } } },
    yAxis: {
      type: "category",
      data: rows,
      axisLabel: { color: cssColor("--text-muted"), formatter: (value: string) => truncate(showControls(value), 28).text },
      axisLine: { lineStyle: { color: cssColor("--border") } },
    },
    visualMap: {
      min: 0,
      max: Math.max(1, max),
      calculable: false,
      text: [`${max.toLocaleString("en-US")} events`, "0"],
      orient: "horizontal",
      left: "center",
      bottom: 0,
      itemHeight: 120,
      textStyle: { color: cssColor("--text-muted") },
      inRange: { color: darkScheme.value ? ["#1d232c", "#1f4f99", "#4c8dff", "#f2b72c"] : ["#f0f5fc", "#9cc2fb", "#1f6feb", "#0b3d91"] },
    },
    series: [{
      type: "heatmap",
      data: cells,
      itemStyle: { borderColor: cssColor("--surface"), borderWidth: 1 },
      emphasis: { itemStyle: { borderColor: cssColor("--text"), borderWidth: 1 } },
    }],
  }), [rows, cells, max, darkScheme.value]);
  return (
    <EChart
      option={option}
      height={height}
      label="Heatmap by hour of day"
      onSelect={(event) => {
        const cell = cells[event.dataIndex];
        const row = cell ? rows[cell[1]] : undefined;
        if (row !== undefined) onSelect?.(row);
      }}
      tooltip={(event) => {
        const cell = cells[event.dataIndex];
        if (!cell) return null;
        const [hour, row, count] = cell;
        return (
          <>
            <div class="tooltip-time">{HOURS[hour]}–{String(hour).padStart(2, "0")}:59 ({zoneLabel})</div>
            <div class="tooltip-row"><span class="tooltip-name">{showControls(truncate(rows[row] ?? "", 200).text)}</span><span class="tooltip-value">{formatCount(count)}</span></div>
          </>
        );
      }}
    />
  );
}
