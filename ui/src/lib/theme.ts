// The light or dark theme follows the system (`prefers-color-scheme`); charts, which draw on a
// canvas, read the theme's colours from the CSS custom properties and redraw when it changes.

import { signal } from "@preact/signals";

const query = window.matchMedia("(prefers-color-scheme: dark)");

export const darkScheme = signal(query.matches);

query.addEventListener("change", (event) => {
  darkScheme.value = event.matches;
});

export function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

const LEVEL_COLORS: Record<string, string> = {
  debug: "--level-debug",
  info: "--level-info",
  warning: "--level-warning",
  warn: "--level-warning",
  error: "--level-error",
  critical: "--level-critical",
  fatal: "--level-critical",
};

const PALETTE = ["--series-1", "--series-2", "--series-3", "--series-4", "--series-5", "--series-6"];

/** The colour of a histogram series: a level's own colour, else the palette in order. */
export function seriesColor(name: string, position: number, stackField: string): string {
  if (name === "other") return cssColor("--series-other");
  const level = stackField === "level" || stackField === "level.keyword" ? LEVEL_COLORS[name.toLowerCase()] : undefined;
  return cssColor(level ?? PALETTE[position % PALETTE.length] ?? "--series-1");
}

/** The CSS class of a level badge; unknown levels get the neutral one. */
export function levelClass(level: string): string {
  const known = LEVEL_COLORS[level.toLowerCase()];
  return known ? `level level-${known.slice("--level-".length)}` : "level";
}
