// What a dashboard shows is in the URL, so a link reproduces it: the time range, the
// variables (`var-service=auth`), filters added by clicking a bar, slice or node
// (`filter=status_code:500`, several fields of one value joined by `|`), and the auto-refresh.

import { signal } from "@preact/signals";
import type { TimeRange } from "../lib/time";
import { REFRESH_INTERVALS, type Dashboard, type RefreshInterval } from "./model";

export interface DashboardFilter {
  /** Either field may match (`app_name|target_service:auth` filters a service both ways). */
  fields: string[];
  value: string;
}

export interface DashboardView {
  /** Null: the dashboard's own default range. */
  range: TimeRange | null;
  refresh: RefreshInterval | null;
  variables: Record<string, string>;
  filters: DashboardFilter[];
}

export function filterToText(filter: DashboardFilter): string {
  return `${filter.fields.join("|")}:${filter.value}`;
}

export function filterFromText(text: string): DashboardFilter | null {
  const colon = text.indexOf(":");
  if (colon <= 0) return null;
  const fields = text.slice(0, colon).split("|").map((field) => field.trim()).filter(Boolean);
  return fields.length > 0 ? { fields, value: text.slice(colon + 1) } : null;
}

export function viewFromSearch(search: string): DashboardView {
  const parameters = new URLSearchParams(search);
  const from = parameters.get("from");
  const to = parameters.get("to");
  const refresh = REFRESH_INTERVALS.find((one) => one.value === parameters.get("refresh"))?.value ?? null;
  const variables: Record<string, string> = {};
  for (const [name, value] of parameters) {
    if (name.startsWith("var-") && value !== "") variables[name.slice(4)] = value;
  }
  const filters = parameters.getAll("filter").map(filterFromText).filter((filter): filter is DashboardFilter => filter !== null);
  return { range: from && to ? { from, to } : null, refresh, variables, filters };
}

export function searchFromView(view: DashboardView): string {
  const parameters = new URLSearchParams();
  if (view.range) {
    parameters.set("from", view.range.from);
    parameters.set("to", view.range.to);
  }
  if (view.refresh) parameters.set("refresh", view.refresh);
  for (const [name, value] of Object.entries(view.variables).sort(([a], [b]) => a.localeCompare(b))) {
    if (value !== "") parameters.set(`var-${name}`, value);
  }
  for (const filter of view.filters) parameters.append("filter", filterToText(filter));
  const text = parameters.toString();
  return text ? `?${text}` : "";
}

export const dashboardView = signal<DashboardView>(viewFromSearch(window.location.search));

window.addEventListener("popstate", () => {
  dashboardView.value = viewFromSearch(window.location.search);
});

/** Changes the view and the URL (a history entry, so "back" undoes a filter or a range). */
export function updateDashboardView(change: Partial<DashboardView>, { replace = false } = {}): void {
  const next = { ...dashboardView.value, ...change };
  const search = searchFromView(next);
  if (search !== window.location.search) {
    const url = `${window.location.pathname}${search}`;
    if (replace) window.history.replaceState(null, "", url);
    else window.history.pushState(null, "", url);
  }
  dashboardView.value = next;
}

/** Reads the URL again (after a navigation to another dashboard). */
export function reloadDashboardView(): void {
  dashboardView.value = viewFromSearch(window.location.search);
}

export function effectiveRange(view: DashboardView, dashboard: Dashboard): TimeRange {
  return view.range ?? dashboard.time;
}

export function effectiveRefresh(view: DashboardView, dashboard: Dashboard): RefreshInterval {
  return view.refresh ?? dashboard.refresh;
}

export function addFilter(filter: DashboardFilter): void {
  const text = filterToText(filter);
  const filters = dashboardView.value.filters;
  if (filters.some((one) => filterToText(one) === text)) return;
  updateDashboardView({ filters: [...filters, filter] });
}

export function removeFilter(position: number): void {
  updateDashboardView({ filters: dashboardView.value.filters.filter((_, index) => index !== position) });
}
