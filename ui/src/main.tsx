// Logfleet's web UI: a client of the server's public HTTP API (Elasticsearch's, plus the
// documented /_logfleet/ endpoints), served by the binary at /_ui/.

import { render } from "preact";
import "./styles/app.css";
import { TopBar } from "./components/TopBar";
import { Explorer } from "./explorer/Explorer";
import { BASE, navigate, pageOf, pathname } from "./router";

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

function App() {
  const page = pageOf(pathname.value);
  return (
    <div class="app">
      <TopBar />
      {page.name === "explorer" ? <Explorer /> : <NotFound path={page.path} />}
    </div>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
