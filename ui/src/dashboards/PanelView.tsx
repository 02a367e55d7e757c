// One panel of a dashboard: its frame (title, inspect, open in explorer, and in edit mode its
// editing actions and handles) and its chart, or its loading, empty or error state. The frame
// carries `data-panel` (the title) and `data-state`.

import { DependencyGraph, errorRateColor } from "../charts/dependencyGraph";
import { DataTable, type Cell, type Column } from "../charts/dataTable";
import { Distribution } from "../charts/distribution";
import { Heatmap } from "../charts/heatmap";
import { Pie } from "../charts/pie";
import { Bars } from "../charts/bars";
import { Stat } from "../charts/stat";
import { TimeChart, type Marker } from "../charts/timeChart";
import { WorldMap } from "../charts/worldMap";
import { Icon } from "../components/Icon";
import { Empty, Failed, Loading } from "../components/StateMessage";
import { formatPercent } from "../lib/format";
import { stringOption, type Panel } from "./model";
import { BASE, navigate } from "../router";
import { thresholdsWithAlert, type PanelAlert } from "./alerts";
import type { PanelResult } from "./data";
import type { PanelData } from "./results";
import { browserZoneName, formatTimestampValue, type Zone } from "../lib/time";

export interface PanelActions {
  onFilter: (fields: string[], value: string) => void;
  onInspect: () => void;
  explorerHref: string;
  /** Why the explorer will not show the panel's own query (a Query DSL without Lucene form). */
  explorerNote?: string;
  onOpenExplorer: (event: MouseEvent) => void;
}

export interface EditActions {
  onEdit: () => void;
  onDuplicate: () => void;
  onDelete: () => void;
  onDragStart: (event: PointerEvent, mode: "move" | "resize") => void;
}

function ChartOf({ panel, data, height, zone, markers, alert, actions }: { panel: Panel; data: PanelData; height: number; zone: Zone; markers: Marker[]; alert: PanelAlert | undefined; actions: PanelActions }) {
  const filterBy = (field: string) => (value: string): void => { actions.onFilter([field], value); };
  switch (data.kind) {
    case "timeseries":
      return <TimeChart times={data.times} series={data.series} step={data.step} unit={panel.unit} zone={zone} height={height - (data.series.length > 1 ? 26 : 0)} thresholds={thresholdsWithAlert(panel, alert, data.step)} markers={markers} regions={alert?.regions ?? []} area={data.series.length === 1} connectGaps={panel.options.connect_gaps === true} />;
    case "stat":
      return <Stat value={data.value} previous={data.previous} times={data.times} values={data.values} step={data.step} unit={panel.unit} zone={zone} height={height} thresholds={panel.thresholds} higherIsBetter={panel.options.higher_is_better === true} />;
    case "bars":
      return panel.type === "pie"
        ? <Pie items={data.items} other={data.other} unit={panel.unit} height={height} onSelect={filterBy(data.field)} />
        : <Bars items={data.items} unit={panel.unit} showShare={panel.unit === "count"} onSelect={filterBy(data.field)} />;
    case "table": {
      const columns: Column[] = data.columns.map((column, position) => {
        const metric = position >= data.columns.length - data.metrics.length ? data.metrics[position - (data.columns.length - data.metrics.length)] : undefined;
        if (!metric) return { label: column.label, filterField: column.field };
        const unit = metric.type === "count" ? "count" : metric.type === "ratio" ? "share" : metric.type === "rate" ? "per_minute" : metric.type === "cardinality" ? "count" : panel.unit;
        return { label: column.label, unit };
      });
      const firstMetric = data.columns.length - data.metrics.length;
      const sortColumn = typeof panel.options.sort_column === "number" ? panel.options.sort_column : firstMetric;
      return <DataTable columns={columns} rows={data.rows.map((row) => row.cells)} onSelect={(field, value) => { actions.onFilter([field], value); }} initialSort={{ column: sortColumn, descending: true }} />;
    }
    case "events": {
      const numeric = new Set(Array.isArray(panel.options.numeric_columns) ? panel.options.numeric_columns : []);
      const columns: Column[] = [
        { label: "Time", render: (value) => <span class="cell-time">{formatTimestampValue(value, zone)}</span> },
        ...data.columns.map((column) => (numeric.has(column) ? { label: column, unit: column.endsWith("_ms") ? "ms" as const : "count" as const } : { label: column, filterField: column === "message" ? null : column })),
      ];
      const rows: Cell[][] = data.rows.map((row) => [row.time, ...data.columns.map((column) => {
        const value = row.values[column];
        if (numeric.has(column)) return typeof value === "number" ? value : null;
        if (value === undefined || value === null) return null;
        return typeof value === "string" ? value : JSON.stringify(value);
      })]);
      return <DataTable columns={columns} rows={rows} onSelect={(field, value) => { actions.onFilter([field], value); }} />;
    }
    case "heatmap":
      return <Heatmap rows={data.rows} cells={data.cells} max={data.max} height={height} zoneLabel={zone === "utc" ? "UTC" : browserZoneName()} onSelect={filterBy(data.field)} />;
    case "map": {
      const rows: Cell[][] = data.countries.map((country) => [country.name, country.code, country.value]);
      return (
        <div class="map-panel">
          <div class="map-chart">
            <WorldMap countries={data.countries} unit={panel.unit} height={height} onSelect={filterBy(data.field)} />
            <a class="map-attribution" href="https://db-ip.com" target="_blank" rel="noopener noreferrer" title="The GeoIP database `logfleet setup geoip` installs (CC BY 4.0); a MaxMind GeoLite2 file takes its place when configured">IP Geolocation by DB-IP</a>
          </div>
          <div class="map-table">
            <DataTable
              columns={[{ label: "Country" }, { label: "Code", filterField: data.field }, { label: panel.metrics[0]?.label ?? "Events", unit: panel.unit }]}
              rows={rows}
              onSelect={(field, value) => { actions.onFilter([field], value); }}
              initialSort={{ column: 2, descending: true }}
            />
          </div>
        </div>
      );
    }
    case "graph": {
      if (panel.type === "graph") {
        return <DependencyGraph nodes={data.nodes} edges={data.edges} height={height - 24} onSelect={(service) => { actions.onFilter([data.sourceField, data.targetField], service); }} />;
      }
      const columns: Column[] = [
        { label: "Caller", filterField: data.sourceField },
        { label: "Callee", filterField: data.targetField },
        { label: "Calls", unit: "count" },
        {
          label: "Error %",
          unit: "share",
          render: (value) => {
            const rate = typeof value === "number" ? value : 0;
            return <span class="error-rate" title={`${(rate * 100).toFixed(4)}%`}><span class="swatch" style={{ background: errorRateColor(rate) }} />{formatPercent(rate)}</span>;
          },
        },
        { label: "p95", unit: "ms" },
        { label: "p99", unit: "ms" },
        { label: "Last error" },
      ];
      const rows: Cell[][] = data.edges.map((edge) => [
        edge.source, edge.target, edge.calls, edge.calls > 0 ? edge.errors / edge.calls : 0, edge.p95, edge.p99,
        // The time of day first (the cell's title has the whole text, with the date).
        edge.lastError ? `${formatTimestampValue(edge.lastError.time, zone).slice(11, 19)} ${edge.lastError.text}` : null,
      ]);
      return <DataTable columns={columns} rows={rows} onSelect={(field, value) => { actions.onFilter([field], value); }} initialSort={{ column: 2, descending: true }} />;
    }
    case "distribution":
      return <Distribution buckets={data.buckets} interval={data.interval} percentiles={data.percentiles} unit={panel.unit} height={height} />;
  }
}

/** The bell that says a panel watches an alert rule, coloured by its state, linking to the rule. */
function AlertLink({ id, alert }: { id: string; alert: PanelAlert | undefined }) {
  const rule = alert?.rule;
  const firing = rule?.state?.firing ?? 0;
  const state = !alert ? "unknown" : !rule ? "missing" : rule.enabled === false ? "disabled" : firing > 0 ? "firing" : (rule.state?.pending ?? 0) > 0 ? "pending" : "ok";
  const title = !alert ? `Alert rule ${id}`
    : !rule ? `The alert rule ${id} does not exist`
      : `Alert rule: ${rule.name} — ${state === "firing" ? `firing (${firing})` : state}. Its threshold and the intervals it fired are drawn.`;
  const href = `${BASE}/alerts/rules/${encodeURIComponent(id)}`;
  return (
    <a class={`panel-alert alert-${state}`} href={href} title={title} aria-label={title} data-alert-state={state} onClick={(event) => { event.preventDefault(); navigate(href); }}>
      <Icon name="bell" />
    </a>
  );
}

export function PanelView({ panel, result, height, zone, markers, alert, actions, edit }: {
  panel: Panel;
  result: PanelResult | undefined;
  height: number;
  zone: Zone;
  markers: Marker[];
  /** The alert rule the panel links to, with the intervals it fired. */
  alert?: PanelAlert | undefined;
  actions: PanelActions;
  edit: EditActions | null;
}) {
  const state = result?.state ?? "loading";
  const bodyHeight = Math.max(60, height);
  return (
    <>
      <header class="dash-panel-header">
        {edit ? (
          <button type="button" class="icon-button drag-handle" title="Drag to move" aria-label={`Move ${panel.title}`} onPointerDown={(event) => { edit.onDragStart(event, "move"); }}>
            <Icon name="dragHandle" />
          </button>
        ) : null}
        <h2 class="dash-panel-title" title={panel.description ?? panel.title}>{panel.title}</h2>
        {panel.alert && panel.type === "timeseries" ? <AlertLink id={panel.alert} alert={alert} /> : null}
        {result?.state === "ready" && result.took !== null ? <span class="panel-took" title="Time the server took">{result.took} ms</span> : null}
        <span class="spacer" />
        <button type="button" class="icon-button" title="Inspect: the request and the response" aria-label={`Inspect ${panel.title}`} onClick={actions.onInspect} data-testid="panel-inspect">
          <Icon name="eye" />
        </button>
        <a class="icon-button" href={actions.explorerHref} title={actions.explorerNote ?? "Open in the explorer with this query, filters and time range"} aria-label={`Open ${panel.title} in the explorer`} onClick={actions.onOpenExplorer} data-testid="panel-explore">
          <Icon name="search" />
        </a>
        {edit ? (
          <>
            <button type="button" class="icon-button" title="Edit the panel" aria-label={`Edit ${panel.title}`} onClick={edit.onEdit} data-testid="panel-edit"><Icon name="edit" /></button>
            <button type="button" class="icon-button" title="Duplicate the panel" aria-label={`Duplicate ${panel.title}`} onClick={edit.onDuplicate} data-testid="panel-duplicate"><Icon name="copy" /></button>
            <button type="button" class="icon-button" title="Delete the panel" aria-label={`Delete ${panel.title}`} onClick={edit.onDelete} data-testid="panel-delete"><Icon name="trash" /></button>
          </>
        ) : null}
      </header>
      <div class="dash-panel-body">
        {state === "loading" || !result ? <Loading /> : null}
        {state === "error" && result?.error ? <Failed error={result.error} title="This panel's search failed" /> : null}
        {state === "empty" ? (
          <Empty title="No data">
            <p class="hint">{stringOption(panel, "empty", "No events match this panel's query in the time range and filters.")}</p>
          </Empty>
        ) : null}
        {state === "ready" && result?.data ? <ChartOf panel={panel} data={result.data} height={bodyHeight} zone={zone} markers={markers} alert={alert} actions={actions} /> : null}
      </div>
      {edit ? <span class="resize-corner" title="Drag to resize" onPointerDown={(event) => { edit.onDragStart(event, "resize"); }} /> : null}
    </>
  );
}
