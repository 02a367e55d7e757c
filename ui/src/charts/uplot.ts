// What every uPlot chart shares: the theme's colours, the time zone, and a chart that follows
// its container's size.

import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatTime, type Zone } from "../lib/time";
import { cssColor } from "../lib/theme";

export function themedAxis(overrides: uPlot.Axis = {}): uPlot.Axis {
  return {
    stroke: cssColor("--text-muted"),
    grid: { stroke: cssColor("--grid"), width: 1 },
    ticks: { stroke: cssColor("--grid"), width: 1, size: 4 },
    font: `11px ${cssColor("--font-sans") || "system-ui, sans-serif"}`,
    ...overrides,
  };
}

/** Top, right, bottom, left: room on the right for half the last time label, which is centred on its tick. */
export const CHART_PADDING: uPlot.Padding = [8, 20, 0, 0];

const DAY = 86_400_000;

/**
 * Time axis labels in 24-hour time, as the table shows them: the date under the first tick of
 * each day; just dates from a day up.
 */
export function timeAxis(zone: Zone, overrides: uPlot.Axis = {}): uPlot.Axis {
  return themedAxis({
    space: 70,
    values: (_u, ticks, _axis, _space, increment) => {
      let previousDay = "";
      return ticks.map((tick) => {
        const text = formatTime(tick, zone);
        const day = text.slice(0, 10);
        if (increment >= 28 * DAY) return text.slice(0, 7);
        if (increment >= DAY) return day;
        const time = increment < 1000 ? text.slice(11, 23) : increment < 60_000 ? text.slice(11, 19) : text.slice(11, 16);
        const label = day === previousDay ? time : `${time}\n${day}`;
        previousDay = day;
        return label;
      });
    },
    ...overrides,
  });
}

export function zoneOptions(zone: Zone): Pick<uPlot.Options, "ms" | "tzDate"> {
  return zone === "utc"
    ? { ms: 1, tzDate: (timestamp: number) => uPlot.tzDate(new Date(timestamp), "Etc/UTC") }
    : { ms: 1 };
}

/**
 * Creates the chart in the returned element's ref, recreates it when `dependencies` change
 * (the options do), and resizes it with its container.
 */
export function useUPlot(
  makeOptions: (width: number) => Omit<uPlot.Options, "width" | "height">,
  data: uPlot.AlignedData,
  dependencies: unknown[],
  height: number,
) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  // Built as the chart's element is laid out, so a panel that says "ready" has its chart drawn.
  useLayoutEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    const width = Math.max(200, element.clientWidth);
    const plot = new uPlot({ ...makeOptions(width), width, height }, data, element);
    chart.current = plot;
    const observer = new ResizeObserver(() => {
      const next = Math.max(200, element.clientWidth);
      if (next !== plot.width) plot.setSize({ width: next, height });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
      chart.current = null;
    };
    // The options are rebuilt only when what they depend on changes; data goes to setData.
  }, [...dependencies, height]);
  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);
  return container;
}

/** Where the cursor is: the data index under it and its position in the chart's element. */
export interface CursorHover {
  index: number;
  left: number;
  top: number;
}

/** A `setCursor` hook reporting the cursor's index and position (null when it leaves). */
export function hoverHook(onHover: (hover: CursorHover | null) => void): (chart: uPlot) => void {
  return (chart) => {
    const index = chart.cursor.idx;
    if (index === null || index === undefined || chart.cursor.left === undefined || chart.cursor.left < 0) {
      onHover(null);
      return;
    }
    onHover({ index, left: chart.cursor.left + chart.over.offsetLeft, top: (chart.cursor.top ?? 0) + chart.over.offsetTop });
  };
}
