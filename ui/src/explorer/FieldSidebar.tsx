// Every field of the current result: its type (from _field_caps), the share of loaded events
// that have it, and its top 5 values — over all matching events by a `terms` aggregation for
// aggregatable fields, else over the loaded events; each panel says which. Values filter for
// or against themselves; "Visualize" charts the field.

import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { asApiError, isAbort, type ApiError } from "../api/client";
import { BarList } from "../charts/barList";
import { Icon } from "../components/Icon";
import { Failed, Loading } from "../components/StateMessage";
import { typeBadge, type FieldInfo } from "../lib/fields";
import { formatCount, formatPercent, showControls, truncate } from "../lib/format";
import { columns, toggleColumn } from "./columns";
import { filterBy } from "./DocumentFlyout";
import { loadedStats, topValues, type FieldStats } from "./fieldStats";
import { aggregate, fieldsResult, results, type PanelState } from "./search";
import { sidebarOpen, view } from "./state";
import { tail } from "./tail";

/** The field "Visualize" shows, or null. */
export const visualized = signal<string | null>(null);

const TOP = 5;

interface Aggregated {
  state: PanelState;
  items: { label: string; count: number }[];
  total: number;
  error: ApiError | null;
}

function TopValues({ field, info, stats, loaded }: { field: string; info: FieldInfo | undefined; stats: FieldStats | undefined; loaded: number }) {
  const byAggregation = info?.aggregatable === true && !tail.value.active;
  const [aggregated, setAggregated] = useState<Aggregated>({ state: "loading", items: [], total: 0, error: null });
  const runKey = `${view.value.index}\u0000${JSON.stringify(results.value.state === "ready" ? results.value.total : -1)}\u0000${view.value.query}`;
  useEffect(() => {
    if (!byAggregation) return undefined;
    const controller = new AbortController();
    setAggregated((current) => ({ ...current, state: "loading" }));
    aggregate({ values: { terms: { field, size: TOP } } }, controller.signal).then((response) => {
      const buckets = (response.aggregations?.values as { buckets?: { key: unknown; key_as_string?: string; doc_count: number }[] } | undefined)?.buckets ?? [];
      const items = buckets.map((bucket) => ({ label: bucket.key_as_string ?? String(bucket.key), count: bucket.doc_count }));
      const total = response.hits.total?.value ?? 0;
      setAggregated({ state: items.length > 0 ? "ready" : "empty", items, total, error: null });
    }, (error: unknown) => {
      if (!isAbort(error)) setAggregated({ state: "error", items: [], total: 0, error: asApiError(error) });
    });
    return () => { controller.abort(); };
  }, [field, byAggregation, runKey]);
  const select = (label: string, exclude: boolean): void => { filterBy(field, label, exclude); };
  if (byAggregation) {
    return (
      <div class="field-details" data-state={aggregated.state}>
        <div class="hint">Top {TOP} of {formatCount(aggregated.total)} matching events (terms aggregation)</div>
        {aggregated.state === "loading" ? <Loading label="Counting…" /> : null}
        {aggregated.state === "error" && aggregated.error ? <Failed error={aggregated.error} /> : null}
        {aggregated.state === "empty" ? <div class="hint">No values in the matching events.</div> : null}
        {aggregated.state === "ready" ? <BarList items={aggregated.items} total={aggregated.total} onSelect={select} /> : null}
      </div>
    );
  }
  const items = stats ? topValues(stats, TOP) : [];
  return (
    <div class="field-details" data-state={items.length > 0 ? "ready" : "empty"}>
      <div class="hint">Top {TOP} in the {formatCount(loaded)} loaded events{info?.aggregatable ? "" : " (not aggregatable)"}</div>
      {items.length > 0 ? <BarList items={items} total={loaded} onSelect={select} /> : <div class="hint">No values in the loaded events.</div>}
    </div>
  );
}

function FieldRow({ info, name, stats, loaded, expanded, onToggle }: {
  info: FieldInfo | undefined; name: string; stats: FieldStats | undefined; loaded: number; expanded: boolean; onToggle: () => void;
}) {
  const type = info?.type ?? "unknown";
  const share = loaded > 0 ? (stats?.count ?? 0) / loaded : 0;
  const selected = columns.value.includes(name);
  return (
    <li class={`field-row ${expanded ? "expanded" : ""}`} data-field={name}>
      <div class="field-line">
        <button type="button" class="field-toggle" aria-expanded={expanded} onClick={onToggle} title={`${name} (${type})`}>
          <span class={`type-badge type-${typeBadge(type)}`} title={type}>{typeBadge(type)}</span>
          <span class="field-name">{showControls(truncate(name, 120).text)}</span>
          <span class="field-share" title="Share of the loaded events that have this field">{formatPercent(share)}</span>
        </button>
        <button type="button" class={`icon-button ${selected ? "active" : ""}`} aria-label={selected ? `Remove column ${name}` : `Add column ${name}`} title={selected ? "Remove the column" : "Add as a column"} onClick={() => { toggleColumn(name); }}>
          <Icon name={selected ? "minus" : "plus"} />
        </button>
      </div>
      {expanded ? (
        <>
          <TopValues field={name} info={info} stats={stats} loaded={loaded} />
          <button type="button" class="button small" onClick={() => { visualized.value = name; }}>
            <Icon name="chart" /> Visualize
          </button>
        </>
      ) : null}
    </li>
  );
}

export function FieldSidebar() {
  const [filter, setFilter] = useState("");
  const [expanded, setExpanded] = useState<string | null>(null);
  const [showEmpty, setShowEmpty] = useState(false);
  const known = fieldsResult.value.fields;
  const { hits: loaded, fields: stats } = loadedStats.value;
  const resultState = tail.value.active ? (loaded > 0 ? "ready" : "empty") : results.value.state;
  const panelState: PanelState = fieldsResult.value.state === "error" ? "error" : resultState;
  if (!sidebarOpen.value) return null;
  const needle = filter.trim().toLowerCase();
  const names = [...new Set([...stats.keys(), ...known.keys()])]
    .filter((name) => name.toLowerCase().includes(needle))
    .sort((a, b) => a.localeCompare(b));
  const present = names.filter((name) => (stats.get(name)?.count ?? 0) > 0);
  const absent = names.filter((name) => (stats.get(name)?.count ?? 0) === 0);
  const selected = columns.value.filter((name) => present.includes(name) || absent.includes(name));
  const row = (name: string) => (
    <FieldRow
      key={name}
      name={name}
      info={known.get(name)}
      stats={stats.get(name)}
      loaded={loaded}
      expanded={expanded === name}
      onToggle={() => { setExpanded(expanded === name ? null : name); }}
    />
  );
  return (
    <aside class="sidebar panel" data-panel="Fields" data-state={panelState} aria-label="Fields">
      <div class="sidebar-search">
        <input class="text-input" type="search" placeholder="Filter fields" aria-label="Filter fields" value={filter} onInput={(event) => { setFilter(event.currentTarget.value); }} />
      </div>
      {panelState === "loading" && loaded === 0 ? <Loading label="Loading fields…" /> : null}
      {panelState === "error" && fieldsResult.value.error ? <Failed error={fieldsResult.value.error} title="Fields could not be listed" /> : null}
      {panelState === "error" && !fieldsResult.value.error ? <div class="hint sidebar-note">No fields: the search failed.</div> : null}
      {panelState === "empty" ? <div class="hint sidebar-note">No events loaded, so no fields to show.</div> : null}
      {loaded > 0 ? (
        <div class="field-groups">
          {selected.length > 0 ? (
            <>
              <div class="section-title">Selected fields</div>
              <ul class="field-list">{selected.map(row)}</ul>
            </>
          ) : null}
          <div class="section-title">Fields in {formatCount(loaded)} loaded events <span class="count-badge">{present.length}</span></div>
          <ul class="field-list">{present.filter((name) => !selected.includes(name)).map(row)}</ul>
          {absent.length > 0 ? (
            <>
              <button type="button" class="link-button section-toggle" onClick={() => { setShowEmpty(!showEmpty); }}>
                <Icon name={showEmpty ? "chevronDown" : "chevronRight"} /> {absent.length} fields without values here
              </button>
              {showEmpty ? <ul class="field-list">{absent.filter((name) => !selected.includes(name)).map(row)}</ul> : null}
            </>
          ) : null}
        </div>
      ) : null}
    </aside>
  );
}
