// Countries shaded by a value (ECharts map over the bundled world geometry, features named by
// ISO alpha-2 code); a click on a country filters by its code.

import { useMemo } from "preact/hooks";
import { showControls, truncate } from "../lib/format";
import { formatExact, type ValueUnit } from "../lib/units";
import { cssColor, darkScheme } from "../lib/theme";
import { EChart } from "./echarts";

export interface CountryValue {
  code: string;
  name: string;
  value: number;
  count: number;
}

export function WorldMap({ countries, unit, height, onSelect }: {
  countries: CountryValue[];
  unit: ValueUnit;
  height: number;
  onSelect?: (code: string) => void;
}) {
  const byCode = useMemo(() => new Map(countries.map((country) => [country.code, country])), [countries]);
  const option = useMemo(() => ({
    animation: false,
    visualMap: {
      min: 0,
      max: Math.max(1, ...countries.map((country) => country.value)),
      left: 8,
      bottom: 8,
      itemHeight: 90,
      calculable: false,
      textStyle: { color: cssColor("--text-muted") },
      inRange: { color: darkScheme.value ? ["#1f3358", "#4c8dff", "#a8c8ff"] : ["#cfe0fb", "#5b9bff", "#0b3d91"] },
    },
    series: [{
      type: "map",
      map: "world",
      roam: false,
      layoutCenter: ["50%", "55%"],
      layoutSize: "125%",
      aspectScale: 0.85,
      label: { show: false },
      emphasis: { label: { show: false }, itemStyle: { areaColor: cssColor("--level-warning") } },
      select: { disabled: true },
      itemStyle: { areaColor: darkScheme.value ? "#262d38" : "#e4e8ee", borderColor: cssColor("--surface"), borderWidth: 0.5 },
      data: countries.map((country) => ({ name: country.code, value: country.value })),
    }],
  }), [countries, darkScheme.value]);
  return (
    <EChart
      option={option}
      height={height}
      label="Events by country"
      onSelect={(event) => { if (byCode.has(event.name)) onSelect?.(event.name); }}
      tooltip={(event) => {
        const country = byCode.get(event.name);
        if (!country) return null;
        return (
          <div class="tooltip-row">
            <span class="tooltip-name">{showControls(truncate(country.name, 100).text)} ({showControls(truncate(country.code, 10).text)})</span>
            <span class="tooltip-value">{formatExact(country.value, unit)}</span>
          </div>
        );
      }}
    />
  );
}
