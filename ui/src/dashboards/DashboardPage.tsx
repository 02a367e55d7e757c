// A dashboard at /_ui/dashboards/{id}: the time range, variables, click filters and
// auto-refresh on top (all in the URL), the panels on a 24-column grid below. Every panel's
// search goes to the server in one `_msearch`; an auto-refresh keeps the panels drawn while it
// runs. In edit mode panels are moved, resized, edited, duplicated and deleted, and saved back
// to /_logfleet/dashboards.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { asApiError, isAbort, type ApiError } from "../api/client";
import { deleteDashboard, getDashboard, putDashboard, saveBlob } from "../api/logfleet";
import { Icon } from "../components/Icon";
import { Popover } from "../components/Popover";
import { Failed, Loading } from "../components/StateMessage";
import { TimeRangePicker } from "../components/TimeRangePicker";
import { showControls, truncate } from "../lib/format";
import { zone } from "../lib/zone";
import { BASE, navigate } from "../router";
import { runDashboard, type DashboardResults } from "./data";
import { grafanaDashboard } from "./grafana";
import { InspectDialog } from "./InspectDialog";
import { FRAME, GAP, panelPixelHeight, ROW_HEIGHT, settle } from "./layout";
import { dashboardJson, GRID_COLUMNS, newPanelId, nextRow, parseDashboard, REFRESH_INTERVALS, type Dashboard, type Panel, type RefreshInterval } from "./model";
import { PanelEditor } from "./PanelEditor";
import { PanelView } from "./PanelView";
import { explorerQuery, roundedBounds, type QueryContext } from "./requests";
import { addFilter, dashboardView, effectiveRange, effectiveRefresh, reloadDashboardView, removeFilter, updateDashboardView, type DashboardView } from "./state";

function contextOf(dashboard: Dashboard, view: DashboardView, now: number): QueryContext | null {
  const rounded = roundedBounds(effectiveRange(view, dashboard), zone.value, now);
  if (!rounded) return null;
  return {
    bounds: rounded.bounds,
    interval: rounded.interval,
    zone: zone.value,
    variables: dashboard.variables.flatMap((variable) => {
      const value = view.variables[variable.name];
      return value ? [{ variable, value }] : [];
    }),
    filters: view.filters,
  };
}

function RefreshPicker({ value }: { value: RefreshInterval }) {
  return (
    <label class="refresh-picker" title="Auto-refresh">
      <span class="sr-only">Auto-refresh</span>
      <select class="select" value={value} onChange={(event) => { updateDashboardView({ refresh: event.currentTarget.value as RefreshInterval }, { replace: true }); }} data-testid="auto-refresh">
        {REFRESH_INTERVALS.map((one) => <option key={one.value} value={one.value}>{one.value === "off" ? "Auto-refresh off" : `Every ${one.label}`}</option>)}
      </select>
    </label>
  );
}

function VariableBar({ dashboard, view, values }: { dashboard: Dashboard; view: DashboardView; values: Record<string, string[]> }) {
  if (dashboard.variables.length === 0 && view.filters.length === 0) return null;
  return (
    <div class="variable-bar">
      {dashboard.variables.map((variable) => {
        const current = view.variables[variable.name] ?? "";
        const options = values[variable.name] ?? [];
        // A value from the URL stays selectable even when the range has none of it.
        const shown = current && !options.includes(current) ? [current, ...options] : options;
        return (
          <label class="variable" key={variable.name}>
            <span class="variable-label">{variable.label}</span>
            <select
              class="select"
              value={current}
              data-variable={variable.name}
              onChange={(event) => { updateDashboardView({ variables: { ...view.variables, [variable.name]: event.currentTarget.value } }); }}
            >
              <option value="">All</option>
              {shown.map((value) => <option key={value} value={value}>{showControls(truncate(value, 80).text)}</option>)}
            </select>
          </label>
        );
      })}
      {view.filters.map((filter, position) => (
        <span class="filter-pill" key={`${filter.fields.join("|")}:${filter.value}`} data-testid="dashboard-filter">
          <span class="filter-field">{filter.fields.join(" or ")}</span>
          <span class="filter-value">{showControls(truncate(filter.value, 80).text)}</span>
          <button type="button" class="icon-button" aria-label={`Remove the filter ${filter.fields.join(" or ")}: ${filter.value}`} onClick={() => { removeFilter(position); }}><Icon name="close" /></button>
        </span>
      ))}
    </div>
  );
}

interface Drag {
  id: string;
  mode: "move" | "resize";
  startX: number;
  startY: number;
  original: Panel["layout"];
}

function downloadJson(value: unknown, fileName: string): void {
  saveBlob(new Blob([`${JSON.stringify(value, null, 2)}\n`], { type: "application/json" }), fileName);
}

export function DashboardPage({ id }: { id: string }) {
  const [saved, setSaved] = useState<Dashboard | null>(null);
  const [loadError, setLoadError] = useState<ApiError | null>(null);
  const [draft, setDraft] = useState<Dashboard | null>(null);
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const [results, setResults] = useState<DashboardResults | null>(null);
  const [tick, setTick] = useState(0);
  const [inspecting, setInspecting] = useState<string | null>(null);
  const [editing, setEditing] = useState<Panel | null>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const [refreshing, setRefreshing] = useState(false);
  const [confirmingDelete, setConfirmingDelete] = useState(false);
  const grid = useRef<HTMLDivElement>(null);
  const view = dashboardView.value;

  useEffect(() => {
    reloadDashboardView();
    setSaved(null);
    setLoadError(null);
    setDraft(null);
    setResults(null);
    const controller = new AbortController();
    getDashboard(id, controller.signal).then(
      (stored) => { setSaved(parseDashboard(stored)); },
      (error: unknown) => { if (!isAbort(error)) setLoadError(asApiError(error)); },
    );
    return () => { controller.abort(); };
  }, [id]);

  const dashboard = draft ?? saved;
  const refresh = dashboard ? effectiveRefresh(view, dashboard) : "off";

  // Auto-refresh: re-resolve `now` and search again on the interval.
  useEffect(() => {
    const period = REFRESH_INTERVALS.find((one) => one.value === refresh)?.milliseconds ?? 0;
    if (period === 0) return undefined;
    const timer = window.setInterval(() => { setTick((count) => count + 1); }, period);
    return () => { window.clearInterval(timer); };
  }, [refresh]);

  // What the searches depend on: a change there shows the panels loading again; a tick keeps
  // them drawn while the new answers come.
  const searchKey = dashboard ? JSON.stringify([dashboard.panels.map((panel) => ({ ...panel, layout: null, title: null })), dashboard.variables, dashboard.annotations, view.range, view.variables, view.filters, zone.value, dashboard.time]) : "";
  const previousKey = useRef("");
  useEffect(() => {
    if (!dashboard) return undefined;
    const context = contextOf(dashboard, view, Date.now());
    if (!context) return undefined;
    const changed = previousKey.current !== searchKey;
    previousKey.current = searchKey;
    if (changed) setResults(null);
    setRefreshing(true);
    const controller = new AbortController();
    runDashboard(dashboard, dashboard.panels, context, controller.signal).then(
      (next) => {
        setResults(next);
        setRefreshing(false);
      },
      (error: unknown) => { if (!isAbort(error)) setRefreshing(false); },
    );
    return () => { controller.abort(); };
  }, [searchKey, tick]);

  // Moving and resizing panels with the pointer, in grid cells.
  useEffect(() => {
    if (!drag || !draft) return undefined;
    const element = grid.current;
    const cellWidth = element ? (element.clientWidth + GAP) / GRID_COLUMNS : 40;
    const onMove = (event: PointerEvent): void => {
      const columns = Math.round((event.clientX - drag.startX) / cellWidth);
      const rows = Math.round((event.clientY - drag.startY) / (ROW_HEIGHT + GAP));
      const layout = drag.mode === "move"
        ? { ...drag.original, x: Math.max(0, Math.min(GRID_COLUMNS - drag.original.w, drag.original.x + columns)), y: Math.max(0, drag.original.y + rows) }
        : { ...drag.original, w: Math.max(2, Math.min(GRID_COLUMNS - drag.original.x, drag.original.w + columns)), h: Math.max(3, drag.original.h + rows) };
      setDraft((current) => {
        if (!current) return current;
        const panel = current.panels.find((one) => one.id === drag.id);
        if (!panel || JSON.stringify(panel.layout) === JSON.stringify(layout)) return current;
        return { ...current, panels: settle(current.panels.map((one) => (one.id === drag.id ? { ...one, layout } : one)), drag.id) };
      });
    };
    const onUp = (): void => { setDrag(null); };
    window.addEventListener("pointermove", onMove);
    window.addEventListener("pointerup", onUp);
    return () => {
      window.removeEventListener("pointermove", onMove);
      window.removeEventListener("pointerup", onUp);
    };
  }, [drag]);

  const context = useMemo(() => (dashboard ? contextOf(dashboard, view, Date.now()) : null), [dashboard, view, zone.value, tick]);

  if (loadError) {
    return (
      <div class="dashboard-page" data-panel="Dashboard" data-state="error">
        <Failed error={loadError} title={loadError.status === 404 ? "There is no such dashboard" : "The dashboard could not be loaded"} />
        <p><a href={`${BASE}/dashboards`} onClick={(event) => { event.preventDefault(); navigate(`${BASE}/dashboards`); }}>All dashboards</a></p>
      </div>
    );
  }
  if (!dashboard) return <div class="dashboard-page" data-panel="Dashboard" data-state="loading"><Loading label="Loading the dashboard…" /></div>;

  const range = effectiveRange(view, dashboard);
  const explorerHref = (panel: Panel): string => {
    const parameters = new URLSearchParams({ index: panel.index });
    if (context) {
      const { query } = explorerQuery(panel, context);
      if (query) parameters.set("q", query);
    }
    parameters.set("from", range.from);
    parameters.set("to", range.to);
    return `${BASE}/explorer?${parameters.toString()}`;
  };
  const updatePanels = (panels: Panel[]): void => { setDraft({ ...dashboard, panels }); };
  const save = async (): Promise<void> => {
    if (!draft) return;
    setSaveError(null);
    try {
      const stored = await putDashboard(draft.id, dashboardJson(draft));
      setSaved(parseDashboard(stored));
      setDraft(null);
    } catch (error) {
      setSaveError(asApiError(error));
    }
  };
  const addPanel = (): void => {
    const base = draft ?? dashboard;
    setEditing({
      id: newPanelId(base.panels),
      title: "New panel",
      type: "timeseries",
      index: "logs-*",
      query: { language: "lucene", lucene: "" },
      metrics: [{ type: "count" }],
      split: [],
      unit: "count",
      thresholds: [],
      layout: { x: 0, y: nextRow(base.panels), w: 12, h: 8 },
      options: {},
    });
  };
  const inspected = inspecting ? dashboard.panels.find((panel) => panel.id === inspecting) : undefined;

  return (
    <div class={`dashboard-page ${draft ? "editing" : ""}`} data-panel="Dashboard" data-state="ready" data-dashboard={dashboard.id}>
      <div class="dashboard-toolbar">
        <a class="button ghost" href={`${BASE}/dashboards`} onClick={(event) => { event.preventDefault(); navigate(`${BASE}/dashboards`); }} title="All dashboards">
          <Icon name="chevronLeft" /><span>Dashboards</span>
        </a>
        <div class="dashboard-heading">
          {draft ? (
            <input class="text-input title-input" value={draft.title} aria-label="Dashboard title" onInput={(event) => { setDraft({ ...draft, title: event.currentTarget.value }); }} data-testid="dashboard-title-input" />
          ) : (
            <h1 class="dashboard-title">{dashboard.title}</h1>
          )}
          {dashboard.description && !draft ? <span class="dashboard-description">{dashboard.description}</span> : null}
        </div>
        {refreshing && results ? <span class="spinner" aria-label="Refreshing" /> : null}
        <TimeRangePicker
          range={range}
          onApply={(next) => { updateDashboardView({ range: next }); }}
          onRefresh={() => { setTick((count) => count + 1); }}
        >
          <RefreshPicker value={refresh} />
        </TimeRangePicker>
        {draft ? (
          <>
            <button type="button" class="button" onClick={addPanel} data-testid="add-panel"><Icon name="plus" /><span>Add panel</span></button>
            <button type="button" class="button" onClick={() => { setDraft(null); setSaveError(null); }}>Cancel</button>
            <button type="button" class="button primary" onClick={() => { void save(); }} data-testid="save-dashboard"><Icon name="save" /><span>Save</span></button>
          </>
        ) : (
          <button type="button" class="button" onClick={() => { setDraft(dashboard); }} data-testid="edit-dashboard"><Icon name="edit" /><span>Edit</span></button>
        )}
        <Popover title="Share and export" label={<><Icon name="download" /><span>Export</span><Icon name="chevronDown" /></>} align="right" testId="dashboard-export">
          {(close) => (
            <div class="menu-list">
              <button type="button" class="menu-item" onClick={() => { downloadJson(dashboardJson(dashboard), `${dashboard.id}.json`); close(); }} data-testid="export-json">
                <span class="menu-text">Dashboard JSON</span>
                <span class="menu-detail">Import it here, or keep it in version control</span>
              </button>
              <button type="button" class="menu-item" onClick={() => { downloadJson(grafanaDashboard(dashboard), `${dashboard.id}.grafana.json`); close(); }} data-testid="export-grafana">
                <span class="menu-text">Grafana dashboard</span>
                <span class="menu-detail">For Grafana's Elasticsearch data source, pointed at Logfleet or Elasticsearch</span>
              </button>
              {confirmingDelete ? (
                <div class="menu-confirm" role="alert">
                  <span>Delete “{dashboard.title}” for everyone?</span>
                  <div class="form-actions">
                    <button type="button" class="button" onClick={() => { setConfirmingDelete(false); }}>Keep it</button>
                    <button
                      type="button"
                      class="button danger"
                      onClick={() => {
                        close();
                        setConfirmingDelete(false);
                        deleteDashboard(dashboard.id).then(() => { navigate(`${BASE}/dashboards`); }, (error: unknown) => { setSaveError(asApiError(error)); });
                      }}
                      data-testid="confirm-delete"
                    >
                      Delete
                    </button>
                  </div>
                </div>
              ) : (
                <button type="button" class="menu-item danger" onClick={() => { setConfirmingDelete(true); }} data-testid="delete-dashboard">
                  <span class="menu-text">Delete the dashboard</span>
                </button>
              )}
            </div>
          )}
        </Popover>
      </div>
      <VariableBar dashboard={dashboard} view={view} values={results?.variables ?? {}} />
      {saveError ? <Failed error={saveError} title="The dashboard could not be saved" /> : null}
      {!context ? <p class="hint invalid-text">The time range does not parse, or ends before it starts.</p> : null}
      {dashboard.panels.length === 0 ? (
        <div class="state-message state-empty">
          <div class="state-title">This dashboard has no panels yet</div>
          <button type="button" class="button primary" onClick={() => { if (!draft) setDraft(dashboard); addPanel(); }}>Add a panel</button>
        </div>
      ) : null}
      <div class="dashboard-grid" ref={grid}>
        {dashboard.panels.map((panel) => {
          const result = results?.panels[panel.id];
          return (
            <section
              key={panel.id}
              class={`dash-panel panel-${panel.type} ${drag?.id === panel.id ? "dragging" : ""}`}
              data-panel={panel.title}
              data-panel-id={panel.id}
              data-state={result?.state ?? "loading"}
              style={{ gridColumn: `${panel.layout.x + 1} / span ${panel.layout.w}`, gridRow: `${panel.layout.y + 1} / span ${panel.layout.h}` }}
            >
              <PanelView
                panel={panel}
                result={result}
                height={panelPixelHeight(panel.layout) - FRAME}
                zone={zone.value}
                markers={results?.annotations ?? []}
                alert={panel.alert ? results?.alerts[panel.alert] : undefined}
                actions={{
                  onFilter: (fields, value) => { addFilter({ fields, value }); },
                  onInspect: () => { setInspecting(panel.id); },
                  explorerHref: explorerHref(panel),
                  ...(context && explorerQuery(panel, context).dsl ? { explorerNote: "Open in the explorer with the filters and time range (this panel's Query DSL has no Lucene form: inspect shows it)" } : {}),
                  onOpenExplorer: (event) => {
                    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
                    event.preventDefault();
                    navigate(explorerHref(panel));
                  },
                }}
                edit={draft ? {
                  onEdit: () => { setEditing(panel); },
                  onDuplicate: () => {
                    const copy = { ...panel, id: newPanelId(draft.panels), title: `${panel.title} (copy)`, layout: { ...panel.layout, y: panel.layout.y + panel.layout.h } };
                    updatePanels(settle([...draft.panels, copy], copy.id));
                  },
                  onDelete: () => { updatePanels(draft.panels.filter((one) => one.id !== panel.id)); },
                  onDragStart: (event, mode) => {
                    event.preventDefault();
                    setDrag({ id: panel.id, mode, startX: event.clientX, startY: event.clientY, original: { ...panel.layout } });
                  },
                } : null}
              />
            </section>
          );
        })}
      </div>
      {inspected ? <InspectDialog panel={inspected} result={results?.panels[inspected.id]} onClose={() => { setInspecting(null); }} /> : null}
      {editing && context ? (
        <PanelEditor
          panel={editing}
          context={context}
          onCancel={() => { setEditing(null); }}
          onApply={(panel) => {
            const base = draft ?? dashboard;
            const exists = base.panels.some((one) => one.id === panel.id);
            const panels = exists ? base.panels.map((one) => (one.id === panel.id ? panel : one)) : [...base.panels, panel];
            setDraft({ ...base, panels: settle(panels, panel.id) });
            setEditing(null);
          }}
        />
      ) : null}
    </div>
  );
}
