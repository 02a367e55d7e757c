// The product name and the navigation between pages.

import { BASE, navigate, pathname } from "../router";

const PAGES = [
  { path: `${BASE}/explorer`, label: "Explorer", matches: (path: string) => path === `${BASE}/` || path === BASE || path.startsWith(`${BASE}/explorer`) },
  { path: `${BASE}/dashboards`, label: "Dashboards", matches: (path: string) => path.startsWith(`${BASE}/dashboards`) },
  { path: `${BASE}/alerts`, label: "Alerts", matches: (path: string) => path.startsWith(`${BASE}/alerts`) },
];

export function TopBar() {
  const current = pathname.value;
  return (
    <header class="top-bar">
      <a class="brand" href={`${BASE}/`} onClick={(event) => { event.preventDefault(); navigate(`${BASE}/`); }}>
        <svg class="brand-mark" viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
          <rect width="32" height="32" rx="7" fill="currentColor" />
          <path d="M8 9h4v11h9v4H8z" class="brand-fg" />
          <rect x="15" y="9" width="9" height="3" rx="1.5" class="brand-fg" opacity="0.7" />
          <rect x="15" y="14.5" width="6" height="3" rx="1.5" class="brand-fg" opacity="0.7" />
        </svg>
        <span>Logfleet</span>
      </a>
      <nav class="top-nav" aria-label="Pages">
        {PAGES.map((page) => (
          <a
            key={page.path}
            href={`${page.path}${page.matches(current) && page.label === "Explorer" ? window.location.search : ""}`}
            class={page.matches(current) ? "active" : ""}
            aria-current={page.matches(current) ? "page" : undefined}
            onClick={(event) => {
              event.preventDefault();
              // The explorer keeps its view; the dashboards' and alerts' tabs lead to their lists.
              if (!page.matches(current) || (page.label !== "Explorer" && current !== page.path)) navigate(page.path);
            }}
          >
            {page.label}
          </a>
        ))}
      </nav>
    </header>
  );
}
