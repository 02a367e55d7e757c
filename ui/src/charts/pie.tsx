// Shares of a field's values as a donut (ECharts pie) beside a legend of exact values; a click
// on a slice or a legend entry filters by it.

import { useMemo } from "preact/hooks";
import { formatPercent, showControls, truncate } from "../lib/format";
import { formatExact, formatValue, type ValueUnit } from "../lib/units";
import { cssColor, darkScheme, seriesColor } from "../lib/theme";
import { EChart } from "./echarts";

export function Pie({ items, other, unit, height, onSelect }: {
  items: { key: string; value: number; count: number }[];
  other: number;
  unit: ValueUnit;
  height: number;
  onSelect?: (key: string) => void;
}) {
  const total = items.reduce((sum, item) => sum + item.value, 0) + (unit === "count" ? other : 0);
  const colors = useMemo(() => items.map((item, position) => seriesColor(item.key, position, "")), [items, darkScheme.value]);
  const option = useMemo(() => ({
    animation: false,
    series: [{
      type: "pie",
      radius: ["48%", "88%"],
      center: ["50%", "50%"],
      label: { show: false },
      itemStyle: { borderColor: cssColor("--surface"), borderWidth: 2 },
      data: [
        ...items.map((item, position) => ({ name: item.key, value: item.value, itemStyle: { color: colors[position] } })),
        ...(unit === "count" && other > 0 ? [{ name: "Other", value: other, itemStyle: { color: cssColor("--series-other") } }] : []),
      ],
    }],
  }), [items, other, unit, colors]);
  return (
    <div class="pie">
      <div class="pie-chart">
        <EChart
          option={option}
          height={Math.min(height, 260)}
          label="Share of values"
          onSelect={(event) => {
            const item = items[event.dataIndex];
            if (item) onSelect?.(item.key);
          }}
          tooltip={(event) => {
            const item = items[event.dataIndex];
            const value = item ? item.value : other;
            return (
              <div class="tooltip-row">
                <span class="tooltip-name">{item ? showControls(truncate(item.key, 200).text) : "Other values"}</span>
                <span class="tooltip-value">{formatExact(value, unit)} · {formatPercent(total > 0 ? value / total : 0)}</span>
              </div>
            );
          }}
        />
      </div>
      <ol class="pie-legend">
        {items.map((item, position) => (
          <li key={item.key} data-row={position}>
            <button type="button" class="pie-legend-item" onClick={() => { onSelect?.(item.key); }} title={`${truncate(item.key, 500).text}: ${formatExact(item.value, unit)} — click to filter`}>
              <span class="swatch" style={{ background: colors[position] }} />
              <span class="pie-legend-name">{item.key === "" ? "(empty)" : showControls(truncate(item.key, 80).text)}</span>
              <span class="pie-legend-value">{formatValue(item.value, unit)}</span>
              <span class="pie-legend-share">{formatPercent(total > 0 ? item.value / total : 0)}</span>
            </button>
          </li>
        ))}
        {unit === "count" && other > 0 ? (
          <li><span class="pie-legend-item"><span class="swatch swatch-other" /><span class="pie-legend-name">Other</span><span class="pie-legend-value">{formatValue(other, unit)}</span><span class="pie-legend-share">{formatPercent(other / total)}</span></span></li>
        ) : null}
      </ol>
    </div>
  );
}
