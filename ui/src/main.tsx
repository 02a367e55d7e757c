// Logfleet's web UI: a client of the server's public HTTP API (Elasticsearch's, plus the
// documented /_logfleet/ endpoints), served by the binary at /_ui/.

import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./styles/app.css";
import { Loading } from "./components/StateMessage";
import { TopBar } from "./components/TopBar";
import { Explorer } from "./explorer/Explorer";
import { BASE, navigate, pageOf, pathname, type Page } from "./router";

function NotFound({ path }: { path: string }) {
  return (
    <div class="not-found">
      <h1>No page here</h1>
      <p>
        There is nothing at <code>{path}</code>.
      </p>
      <button type="button" class="button primary" onClick={() => { navigate(`${BASE}/explorer`); }}>Open the explorer</button>
    </div>
  );
}

type DashboardsModule = typeof import("./dashboards/pages");

/** The dashboards' code (and, through it, their charts) loads only when a dashboard page opens. */
function Dashboards({ id }: { id: string | null }) {
  const [module, setModule] = useState<DashboardsModule | null>(null);
  useEffect(() => {
    import("./dashboards/pages").then(setModule, (error: unknown) => { console.error("the dashboards' code did not load", error); });
  }, []);
  if (!module) return <Loading label="Loading dashboards…" />;
  return id === null ? <module.DashboardList /> : <module.DashboardPage key={id} id={id} />;
}

type AlertsModule = typeof import("./alerts/pages");

/** The alerts' code loads only when an alerts page opens. */
function Alerts({ page }: { page: Extract<Page, { name: "alerts" | "alert-rule" }> }) {
  const [module, setModule] = useState<AlertsModule | null>(null);
  useEffect(() => {
    import("./alerts/pages").then(setModule, (error: unknown) => { console.error("the alerts' code did not load", error); });
  }, []);
  if (!module) return <Loading label="Loading alerts…" />;
  return page.name === "alerts" ? <module.AlertsPage tab={page.tab} /> : <module.RuleEditorPage key={page.id ?? ""} id={page.id} />;
}

function App() {
  const page = pageOf(pathname.value);
  return (
    <div class="app">
      <TopBar />
      {page.name === "explorer" ? <Explorer /> : null}
      {page.name === "dashboards" ? <Dashboards id={null} /> : null}
      {page.name === "dashboard" ? <Dashboards id={page.id} /> : null}
      {page.name === "alerts" || page.name === "alert-rule" ? <Alerts page={page} /> : null}
      {page.name === "not-found" ? <NotFound path={page.path} /> : null}
    </div>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
