// ECharts in a Preact component: loaded on demand (`loadECharts`, `loadWorldMap`) before a
// panel says it is ready, drawn on a canvas that follows its container's size, with the
// tooltip rendered by Preact as text nodes (ECharts' own tooltip writes markup).

import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef, useState } from "preact/hooks";
import type { EChartsType } from "echarts/core";

type Setup = typeof import("./echartsSetup");

let setup: Setup | null = null;
let loading: Promise<Setup> | null = null;
let worldLoading: Promise<void> | null = null;

export function loadECharts(): Promise<Setup> {
  loading ??= import("./echartsSetup").then((module) => {
    setup = module;
    return module;
  });
  return loading;
}

/** Registers the world's countries (features named by ISO alpha-2 code) as the map "world". */
export function loadWorldMap(): Promise<void> {
  worldLoading ??= Promise.all([loadECharts(), import("./worldGeometry")]).then(([module, geometry]) => {
    // ECharts' GeoJSON type is its own; the features are standard GeoJSON.
    module.registerMap("world", geometry.worldGeoJson() as unknown as Parameters<Setup["registerMap"]>[1]);
  });
  return worldLoading;
}

/** What a hover or a click on a chart element reports. */
export interface ChartEvent {
  dataIndex: number;
  dataType: string | undefined;
  name: string;
  data: unknown;
  seriesType: string | undefined;
}

interface Hover {
  event: ChartEvent;
  left: number;
  top: number;
}

function toChartEvent(params: unknown): ChartEvent {
  const record = (typeof params === "object" && params !== null ? params : {}) as Record<string, unknown>;
  return {
    dataIndex: typeof record.dataIndex === "number" ? record.dataIndex : -1,
    dataType: typeof record.dataType === "string" ? record.dataType : undefined,
    name: typeof record.name === "string" ? record.name : "",
    data: record.data,
    seriesType: typeof record.seriesType === "string" ? record.seriesType : undefined,
  };
}

function pointerOf(params: unknown): { x: number; y: number } {
  const event = (params as { event?: { offsetX?: number; offsetY?: number } } | null)?.event;
  return { x: event?.offsetX ?? 0, y: event?.offsetY ?? 0 };
}

export function EChart({ option, height, onSelect, tooltip, label }: {
  /** The chart's option, or a function of the chart's width (for layouts in pixels). */
  option: Record<string, unknown> | ((width: number) => Record<string, unknown>);
  height: number;
  onSelect?: (event: ChartEvent) => void;
  tooltip: (event: ChartEvent) => ComponentChildren;
  /** The chart's accessible name. */
  label: string;
}) {
  const element = useRef<HTMLDivElement>(null);
  const chart = useRef<EChartsType | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  const [width, setWidth] = useState(0);
  const select = useRef(onSelect);
  select.current = onSelect;
  useLayoutEffect(() => {
    const target = element.current;
    if (!target || !setup) return undefined;
    const instance = setup.init(target, null, { renderer: "canvas", height });
    chart.current = instance;
    instance.on("mouseover", (params) => {
      const pointer = pointerOf(params);
      setHover({ event: toChartEvent(params), left: pointer.x, top: pointer.y });
    });
    instance.on("mousemove", (params) => {
      const pointer = pointerOf(params);
      setHover({ event: toChartEvent(params), left: pointer.x, top: pointer.y });
    });
    instance.on("mouseout", () => { setHover(null); });
    instance.on("globalout", () => { setHover(null); });
    instance.on("click", (params) => { select.current?.(toChartEvent(params)); });
    setWidth(target.clientWidth);
    const observer = new ResizeObserver(() => {
      instance.resize({ height });
      setWidth(target.clientWidth);
    });
    observer.observe(target);
    return () => {
      observer.disconnect();
      instance.dispose();
      chart.current = null;
    };
  }, [height]);
  useLayoutEffect(() => {
    if (width === 0) return;
    const built = typeof option === "function" ? option(width) : option;
    chart.current?.setOption({ ...built, tooltip: { show: false } }, { notMerge: true });
  }, [option, height, width]);
  const shown = hover ? tooltip(hover.event) : null;
  return (
    <div class="echart" role="img" aria-label={label}>
      <div class="echart-canvas" ref={element} />
      {hover && shown ? (
        <div class={`chart-tooltip ${hover.left > 240 ? "tooltip-left" : ""}`} style={{ left: `${hover.left}px`, top: `${Math.max(0, hover.top - 10)}px` }} data-testid="chart-tooltip">
          {shown}
        </div>
      ) : null}
    </div>
  );
}
