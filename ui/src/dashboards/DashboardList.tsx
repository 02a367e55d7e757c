// /_ui/dashboards: every dashboard the server holds (the prebuilt ones and the users'), a new
// one, and the import of a dashboard's JSON (as the export writes it).

import { useEffect, useState } from "preact/hooks";
import { asApiError, isAbort, type ApiError } from "../api/client";
import { createDashboard, listDashboards, putDashboard, type DashboardSummary } from "../api/logfleet";
import { Icon } from "../components/Icon";
import { Empty, Failed, Loading } from "../components/StateMessage";
import { BASE, navigate } from "../router";
import { DASHBOARD_ID } from "./model";

type ListState = { phase: "loading" } | { phase: "ready"; dashboards: DashboardSummary[] } | { phase: "error"; error: ApiError };

/** Reads an exported dashboard; the error says what is wrong with it. */
export function readImport(text: string): { dashboard: Record<string, unknown> } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { error: "a dashboard is a JSON object" };
  const dashboard = { ...(value as Record<string, unknown>) };
  if (typeof dashboard.title !== "string" || dashboard.title.trim() === "") return { error: "the dashboard needs a \"title\"" };
  if (dashboard.panels !== undefined && !Array.isArray(dashboard.panels)) return { error: "\"panels\" must be an array" };
  if (dashboard.id !== undefined && (typeof dashboard.id !== "string" || !DASHBOARD_ID.test(dashboard.id))) return { error: "\"id\" must be 1 to 64 letters, digits, - or _" };
  // What the server adds is the server's to set again.
  delete dashboard.created_at;
  delete dashboard.updated_at;
  delete dashboard.prebuilt;
  return { dashboard };
}

function ImportForm({ onDone }: { onDone: (id: string) => void }) {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (replace: boolean): Promise<void> => {
    const read = readImport(text);
    if ("error" in read) {
      setProblem(read.error);
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      const id = typeof read.dashboard.id === "string" ? read.dashboard.id : null;
      if (id && !replace) {
        // Never replace a dashboard silently: ask first.
        const existing = await listDashboards();
        if (existing.some((one) => one.id === id)) {
          setConflict(id);
          return;
        }
      }
      const stored = id ? await putDashboard(id, read.dashboard) : await createDashboard(read.dashboard);
      onDone(stored.id);
    } catch (error) {
      setProblem(asApiError(error).reason);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="import-form" data-panel="Import" data-state={problem ? "error" : "ready"}>
      <p class="hint">Paste a dashboard's JSON (as <strong>Export → Dashboard JSON</strong> writes it) or choose its file.</p>
      <input
        type="file"
        accept="application/json,.json"
        data-testid="import-file"
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          if (file) file.text().then(setText, () => { setProblem("the file could not be read"); });
        }}
      />
      <textarea class="text-input mono code-area" rows={8} value={text} onInput={(event) => { setText(event.currentTarget.value); setConflict(null); }} spellcheck={false} aria-label="Dashboard JSON" data-testid="import-text" />
      {problem ? <p class="hint invalid-text" role="alert">{problem}</p> : null}
      {conflict ? (
        <div class="conflict" role="alert">
          A dashboard with the id <code>{conflict}</code> exists.
          <button type="button" class="button danger" onClick={() => { void submit(true); }} data-testid="import-replace">Replace it</button>
        </div>
      ) : null}
      <div class="form-actions">
        <button type="button" class="button primary" disabled={busy || text.trim() === ""} onClick={() => { void submit(false); }} data-testid="import-submit">Import</button>
      </div>
    </div>
  );
}

export function DashboardList() {
  const [state, setState] = useState<ListState>({ phase: "loading" });
  const [importing, setImporting] = useState(false);
  const [createError, setCreateError] = useState<ApiError | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    listDashboards(controller.signal).then(
      (dashboards) => { setState({ phase: "ready", dashboards }); },
      (error: unknown) => { if (!isAbort(error)) setState({ phase: "error", error: asApiError(error) }); },
    );
    return () => { controller.abort(); };
  }, []);
  const open = (id: string): void => { navigate(`${BASE}/dashboards/${encodeURIComponent(id)}`); };
  const create = (): void => {
    setCreateError(null);
    createDashboard({ title: "New dashboard", time: { from: "now-1h", to: "now" }, panels: [] }).then((stored) => { open(stored.id); }, (error: unknown) => { setCreateError(asApiError(error)); });
  };
  const listState = state.phase === "ready" ? (state.dashboards.length === 0 ? "empty" : "ready") : state.phase;
  return (
    <div class="dashboard-list-page">
      <div class="list-header">
        <h1>Dashboards</h1>
        <span class="spacer" />
        <button type="button" class="button" onClick={() => { setImporting(!importing); }} aria-expanded={importing} data-testid="import-dashboard"><Icon name="download" /><span>Import</span></button>
        <button type="button" class="button primary" onClick={create} data-testid="new-dashboard"><Icon name="plus" /><span>New dashboard</span></button>
      </div>
      {createError ? <Failed error={createError} title="The dashboard could not be created" /> : null}
      {importing ? <ImportForm onDone={open} /> : null}
      <div class="panel" data-panel="Dashboards" data-state={listState}>
        {state.phase === "loading" ? <Loading /> : null}
        {state.phase === "error" ? <Failed error={state.error} title="The dashboards could not be listed" /> : null}
        {state.phase === "ready" && state.dashboards.length === 0 ? <Empty title="No dashboards yet"><p class="hint">Create one, or import a dashboard's JSON.</p></Empty> : null}
        {state.phase === "ready" && state.dashboards.length > 0 ? (
          <table class="data-table dashboard-table">
            <thead><tr><th>Title</th><th>Description</th><th class="numeric">Panels</th><th>Updated</th></tr></thead>
            <tbody>
              {state.dashboards.map((dashboard, position) => (
                <tr key={dashboard.id} data-row={position} data-id={dashboard.id}>
                  <td>
                    <a href={`${BASE}/dashboards/${encodeURIComponent(dashboard.id)}`} onClick={(event) => { event.preventDefault(); open(dashboard.id); }}>{dashboard.title}</a>
                    {dashboard.prebuilt ? <span class="badge">prebuilt</span> : null}
                    {(dashboard.tags ?? []).map((tag) => <span class="badge tag" key={tag}>{tag}</span>)}
                  </td>
                  <td class="muted">{dashboard.description ?? ""}</td>
                  <td class="numeric">{dashboard.panels}</td>
                  <td class="muted">{dashboard.updated_at.slice(0, 19).replace("T", " ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </div>
    </div>
  );
}
