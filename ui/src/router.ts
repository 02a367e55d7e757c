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
  | { name: "not-found"; path: string };

export function pageOf(path: string): Page {
  const inner = path.startsWith(BASE) ? path.slice(BASE.length).replace(/\/+$/, "") : path;
  if (inner === "" || inner === "/explorer") return { name: "explorer" };
  if (inner === "/dashboards") return { name: "dashboards" };
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
