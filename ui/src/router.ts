// Client-side routes under /_ui/: the path in a signal, kept in step with the history.

import { signal } from "@preact/signals";

export const BASE = "/_ui";

export const pathname = signal(window.location.pathname);

window.addEventListener("popstate", () => {
  pathname.value = window.location.pathname;
});

/** Goes to a page of the UI (a path under /_ui/) without reloading. */
export function navigate(path: string): void {
  window.history.pushState(null, "", path);
  pathname.value = window.location.pathname;
}

export type Page =
  | { name: "explorer" }
  | { name: "dashboards" }
  | { name: "dashboard"; id: string }
  | { name: "alerts"; tab: AlertsTab }
  | { name: "alert-rule"; id: string | null }
  | { name: "not-found"; path: string };

/** The alerts page's tabs, each at its own path (`/_ui/alerts/silences`); rules at `/_ui/alerts`. */
export const ALERTS_TABS = ["rules", "firing", "silences", "history"] as const;
export type AlertsTab = (typeof ALERTS_TABS)[number];

export function pageOf(path: string): Page {
  const inner = path.startsWith(BASE) ? path.slice(BASE.length).replace(/\/+$/, "") : path;
  if (inner === "" || inner === "/explorer") return { name: "explorer" };
  if (inner === "/dashboards") return { name: "dashboards" };
  if (inner === "/alerts") return { name: "alerts", tab: "rules" };
  const alertsTab = ALERTS_TABS.find((tab) => inner === `/alerts/${tab}`);
  if (alertsTab) return { name: "alerts", tab: alertsTab };
  if (inner === "/alerts/new") return { name: "alert-rule", id: null };
  const rule = /^\/alerts\/rules\/([^/]+)$/.exec(inner);
  if (rule?.[1]) {
    try {
      return { name: "alert-rule", id: decodeURIComponent(rule[1]) };
    } catch {
      return { name: "not-found", path };
    }
  }
  const dashboard = /^\/dashboards\/([^/]+)$/.exec(inner);
  if (dashboard?.[1]) {
    try {
      return { name: "dashboard", id: decodeURIComponent(dashboard[1]) };
    } catch {
      return { name: "not-found", path };
    }
  }
  return { name: "not-found", path };
}
