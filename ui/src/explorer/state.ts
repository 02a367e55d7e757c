// The explorer's view: everything that defines it lives in the URL's query string, so a link
// reproduces it. Changes go through `updateView`, which writes the history (push for what a
// user would go "back" from: index, query, time range, open document; replace for the rest).

import { batch, signal } from "@preact/signals";
import { isBoolean, isString, isStringArray, loadStored, store } from "../lib/storage";
import type { TimeRange } from "../lib/time";
import { setZone, zone } from "../lib/zone";

export const DEFAULT_INDEX = "logs-*";
export const DEFAULT_RANGE: TimeRange = { from: "now-1h", to: "now" };
export const TIME_FIELD = "@timestamp";
/** The pseudo-column showing a summary of the whole event. */
export const SOURCE_COLUMN = "_source";

export interface SortSpec {
  field: string;
  order: "asc" | "desc";
}

export type DocumentTab = "table" | "json" | "context";

export interface DocumentRef {
  index: string;
  id: string;
}

export interface View {
  index: string;
  query: string;
  range: TimeRange;
  /** Chosen columns, or null for the defaults of the index's fields. */
  columns: string[] | null;
  sort: SortSpec;
  /** The field the histogram is stacked by. */
  stack: string;
  doc: DocumentRef | null;
  tab: DocumentTab;
}

export const DEFAULT_SORT: SortSpec = { field: TIME_FIELD, order: "desc" };

function defaultView(): View {
  return {
    index: loadStored("index", DEFAULT_INDEX, isString),
    query: "",
    range: DEFAULT_RANGE,
    columns: null,
    sort: DEFAULT_SORT,
    stack: "level",
    doc: null,
    tab: "table",
  };
}

export function viewFromSearch(search: string): View {
  const parameters = new URLSearchParams(search);
  const view = defaultView();
  const index = parameters.get("index")?.trim();
  if (index) view.index = index;
  view.query = parameters.get("q") ?? "";
  const from = parameters.get("from");
  const to = parameters.get("to");
  if (from && to) view.range = { from, to };
  const columns = parameters.getAll("column").filter((column) => column !== "");
  if (columns.length > 0) view.columns = columns;
  const sort = parameters.get("sort");
  if (sort) {
    const colon = sort.lastIndexOf(":");
    const field = colon === -1 ? sort : sort.slice(0, colon);
    const order = colon === -1 ? "desc" : sort.slice(colon + 1);
    if (field) view.sort = { field, order: order === "asc" ? "asc" : "desc" };
  }
  const stack = parameters.get("stack");
  if (stack !== null) view.stack = stack;
  const doc = parameters.get("doc");
  const slash = doc ? doc.indexOf("/") : -1;
  if (doc && slash > 0) view.doc = { index: doc.slice(0, slash), id: doc.slice(slash + 1) };
  const tab = parameters.get("tab");
  if (tab === "json" || tab === "context") view.tab = tab;
  return view;
}

export function searchFromView(view: View): string {
  const parameters = new URLSearchParams();
  parameters.set("index", view.index);
  if (view.query) parameters.set("q", view.query);
  parameters.set("from", view.range.from);
  parameters.set("to", view.range.to);
  for (const column of view.columns ?? []) parameters.append("column", column);
  if (view.sort.field !== DEFAULT_SORT.field || view.sort.order !== DEFAULT_SORT.order) {
    parameters.set("sort", `${view.sort.field}:${view.sort.order}`);
  }
  if (view.stack !== "level") parameters.set("stack", view.stack);
  if (view.doc) {
    parameters.set("doc", `${view.doc.index}/${view.doc.id}`);
    if (view.tab !== "table") parameters.set("tab", view.tab);
  }
  return `?${parameters.toString()}`;
}

export const view = signal<View>(viewFromSearch(window.location.search));

/** Bumped by the refresh button: re-resolves `now` and runs the search again. */
export const refreshCount = signal(0);

const PUSHED_KEYS: (keyof View)[] = ["index", "query", "range", "doc"];

export function updateView(change: Partial<View>): void {
  const previous = view.value;
  const next = { ...previous, ...change };
  if (!change.doc && "doc" in change) next.tab = "table";
  const search = searchFromView(next);
  const pushes = PUSHED_KEYS.some((key) => key in change && JSON.stringify(previous[key]) !== JSON.stringify(next[key]));
  if (search !== window.location.search) {
    if (pushes) window.history.pushState(null, "", `${window.location.pathname}${search}`);
    else window.history.replaceState(null, "", `${window.location.pathname}${search}`);
  }
  if (next.index !== previous.index) store("index", next.index);
  view.value = next;
}

/**
 * Takes the view from the URL when the explorer opens with one (a link from a dashboard);
 * opened bare (from the navigation), it keeps the view it had.
 */
export function adoptUrlView(): void {
  if (window.location.search) view.value = viewFromSearch(window.location.search);
}

/** Puts the URL in its canonical form (defaults written out) without a history entry. */
export function canonicalizeUrl(): void {
  const search = searchFromView(view.value);
  if (search !== window.location.search) window.history.replaceState(null, "", `${window.location.pathname}${search}`);
}

window.addEventListener("popstate", () => {
  batch(() => {
    view.value = viewFromSearch(window.location.search);
  });
});

// Preferences of this browser, not of the view.
export { setZone, zone };
export const wrapLines = signal(loadStored("wrap", false, isBoolean));
export const histogramOpen = signal(loadStored("histogram", true, isBoolean));
export const sidebarOpen = signal(loadStored("sidebar", true, isBoolean));
export const columnWidths = signal<Record<string, number>>(
  loadStored("widths", {}, (value): value is Record<string, number> =>
    typeof value === "object" && value !== null && Object.values(value).every((width) => typeof width === "number")),
);
export const recentQueries = signal<string[]>(loadStored("recent", [], isStringArray));

export function setPreference(name: "wrap" | "histogram" | "sidebar", value: boolean): void {
  const target = { wrap: wrapLines, histogram: histogramOpen, sidebar: sidebarOpen }[name];
  target.value = value;
  store(name, value);
}

export function setColumnWidth(column: string, width: number): void {
  columnWidths.value = { ...columnWidths.value, [column]: Math.round(width) };
  store("widths", columnWidths.value);
}

const MAX_RECENT = 30;

export function rememberQuery(query: string): void {
  const trimmed = query.trim();
  if (!trimmed) return;
  recentQueries.value = [trimmed, ...recentQueries.value.filter((recent) => recent !== trimmed)].slice(0, MAX_RECENT);
  store("recent", recentQueries.value);
}
