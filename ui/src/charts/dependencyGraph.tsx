// The service dependency map (ECharts graph): a node per service, an arrow per caller → callee
// with its thickness by calls, its colour by error rate and its label the p95 latency. Callers
// sit left of what they call. A click on a node filters the dashboard to that service.

import { useMemo } from "preact/hooks";
import { formatCount, formatPercent, showControls, truncate } from "../lib/format";
import { formatExact, formatValue } from "../lib/units";
import { cssColor, darkScheme } from "../lib/theme";
import { EChart } from "./echarts";

export interface Edge {
  source: string;
  target: string;
  calls: number;
  errors: number;
  p95: number | null;
}

/** Green under 1% errors, amber under 5%, red from there. */
export function errorRateColor(rate: number): string {
  return cssColor(rate >= 0.05 ? "--level-error" : rate >= 0.01 ? "--level-warning" : "--series-2");
}

/**
 * Where each service sits, in pixels of a `width` × `height` chart: callers in columns left of
 * what they call (by longest path from a root), each column's services spread vertically.
 */
function layout(nodes: string[], edges: Edge[], width: number, height: number): Map<string, { x: number; y: number }> {
  const depth = new Map(nodes.map((node) => [node, 0]));
  // Longest path from a root, bounded so a cycle cannot loop forever.
  let changed = true;
  for (let pass = 0; changed && pass < nodes.length; pass += 1) {
    changed = false;
    for (const edge of edges) {
      if (edge.source === edge.target) continue;
      const next = (depth.get(edge.source) ?? 0) + 1;
      if (next > (depth.get(edge.target) ?? 0) && next < nodes.length) {
        depth.set(edge.target, next);
        changed = true;
      }
    }
  }
  const columns = new Map<number, string[]>();
  for (const node of [...nodes].sort()) columns.set(depth.get(node) ?? 0, [...(columns.get(depth.get(node) ?? 0) ?? []), node]);
  const columnCount = Math.max(1, ...[...columns.keys()].map((column) => column + 1));
  const marginX = Math.min(120, width * 0.15);
  const marginTop = 30;
  const marginBottom = 50;
  const positions = new Map<string, { x: number; y: number }>();
  for (const [column, members] of columns) {
    const x = columnCount === 1 ? width / 2 : marginX + (column * (width - 2 * marginX)) / (columnCount - 1);
    members.forEach((node, row) => {
      const y = members.length === 1 ? (marginTop + height - marginBottom) / 2 : marginTop + (row * (height - marginTop - marginBottom)) / (members.length - 1);
      positions.set(node, { x, y });
    });
  }
  return positions;
}

export function DependencyGraph({ nodes, edges, height, onSelect }: {
  nodes: { name: string; calls: number }[];
  edges: Edge[];
  height: number;
  onSelect?: (service: string) => void;
}) {
  const maxCalls = Math.max(1, ...edges.map((edge) => edge.calls));
  const option = useMemo(() => (width: number) => {
    const positions = layout(nodes.map((node) => node.name), edges, width, height);
    const maxNode = Math.max(1, ...nodes.map((node) => node.calls));
    // The graph's view fits the nodes' bounding box into its rectangle: giving it the very box
    // keeps the positions as laid out, in pixels.
    const xs = [...positions.values()].map((position) => position.x);
    const ys = [...positions.values()].map((position) => position.y);
    const box = { left: Math.min(...xs), top: Math.min(...ys), right: Math.max(...xs), bottom: Math.max(...ys) };
    return {
      animation: false,
      series: [{
        type: "graph",
        // Positions are pixels of the chart: the view maps them one to one.
        layout: "none",
        roam: false,
        left: box.left,
        top: box.top,
        width: Math.max(1, box.right - box.left),
        height: Math.max(1, box.bottom - box.top),
        symbol: "circle",
        edgeSymbol: ["none", "arrow"],
        edgeSymbolSize: [0, 10],
        label: {
          show: true,
          position: "bottom",
          color: cssColor("--text"),
          fontWeight: 600,
          formatter: (params: { name: string }) => truncate(showControls(params.name), 40).text,
        },
        edgeLabel: {
          show: true,
          color: cssColor("--text-muted"),
          fontSize: 11,
          formatter: (params: { data: { p95: number | null } }) => `p95 ${formatValue(params.data.p95, "ms")}`,
        },
        lineStyle: { curveness: 0.12, opacity: 0.9 },
        emphasis: { focus: "adjacency", lineStyle: { opacity: 1 } },
        itemStyle: { color: cssColor("--accent"), borderColor: cssColor("--surface"), borderWidth: 2 },
        data: nodes.map((node) => ({
          name: node.name,
          x: positions.get(node.name)?.x ?? 0,
          y: positions.get(node.name)?.y ?? 0,
          symbolSize: 22 + 22 * Math.sqrt(node.calls / maxNode),
        })),
        links: edges.map((edge) => ({
          source: edge.source,
          target: edge.target,
          p95: edge.p95,
          lineStyle: { width: 1.5 + 8 * (edge.calls / maxCalls), color: errorRateColor(edge.calls > 0 ? edge.errors / edge.calls : 0) },
        })),
      }],
    };
  }, [nodes, edges, maxCalls, height, darkScheme.value]);
  return (
    <div class="dependency-graph">
      <EChart
        option={option}
        height={height}
        label="Service dependency map"
        onSelect={(event) => { if (event.dataType === "node") onSelect?.(event.name); }}
        tooltip={(event) => {
          if (event.dataType === "edge") {
            const edge = edges[event.dataIndex];
            if (!edge) return null;
            return (
              <>
                <div class="tooltip-time">{showControls(truncate(edge.source, 100).text)} → {showControls(truncate(edge.target, 100).text)}</div>
                <div class="tooltip-row"><span class="tooltip-name">Calls</span><span class="tooltip-value">{formatCount(edge.calls)}</span></div>
                <div class="tooltip-row"><span class="tooltip-name">Errors</span><span class="tooltip-value">{formatCount(edge.errors)} ({formatPercent(edge.calls > 0 ? edge.errors / edge.calls : 0)})</span></div>
                <div class="tooltip-row"><span class="tooltip-name">p95 latency</span><span class="tooltip-value">{formatExact(edge.p95, "ms")}</span></div>
              </>
            );
          }
          const node = nodes.find((one) => one.name === event.name);
          if (!node) return null;
          return (
            <>
              <div class="tooltip-time">{showControls(truncate(node.name, 100).text)}</div>
              <div class="tooltip-row"><span class="tooltip-name">Calls in and out</span><span class="tooltip-value">{formatCount(node.calls)}</span></div>
              <div class="tooltip-row"><span class="tooltip-name">Click to filter the dashboard</span></div>
            </>
          );
        }}
      />
      <div class="graph-legend">
        <span>Edge: thickness = calls, label = p95 latency; error rate</span>
        <span class="legend-item"><span class="swatch swatch-ok" />&lt; 1%</span>
        <span class="legend-item"><span class="swatch swatch-warning" />1–5%</span>
        <span class="legend-item"><span class="swatch swatch-critical" />≥ 5%</span>
      </div>
    </div>
  );
}
