// Every field of the current result: its type (from _field_caps), the share of events that
// have it — over all matching events by one `filters` aggregation of `exists` queries, else
// (while that runs, in a live tail, past a million matching events, for fields the mapping
// lacks) over the loaded events — and its top 5 values, over all matching events by a `terms`
// aggregation for aggregatable fields, else over the loaded events. The header and each panel
// say which. Values filter for or against themselves; "Visualize" charts the field.

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
/** The most fields whose share one request counts over the whole result. */
const MAX_COUNTED_SHARES = 200;
/**
 * Past this many matching events the shares stay those of the loaded events: an `exists`
 * per field over millions of events would cost the server more than the view itself.
 */
const MAX_SHARE_COUNTED_EVENTS = 1_000_000;

/** How many of all matching events have each field. */
interface Shares {
  state: "loading" | "ready" | "error";
  total: number;
  counts: Map<string, number>;
}

/** The run's identity as the sidebar's counts see it: a new one counts again. */
function runKey(): string {
  return `${view.value.index}\u0000${JSON.stringify(results.value.state === "ready" ? results.value.total : -1)}\u0000${view.value.query}`;
}

/** Counts, over the whole current result, the events that have each of `names`. */
function useShares(names: string[], enabled: boolean): Shares | null {
  const [shares, setShares] = useState<Shares | null>(null);
  const key = runKey();
  const fieldsKey = names.join("\u0000");
  useEffect(() => {
    if (!enabled || names.length === 0) {
      setShares(null);
      return undefined;
    }
    const controller = new AbortController();
    setShares((current) => (current ? { ...current, state: "loading" } : { state: "loading", total: 0, counts: new Map() }));
    const filters = Object.fromEntries(names.map((name) => [name, { exists: { field: name } }]));
    aggregate({ shares: { filters: { filters } } }, controller.signal).then((response) => {
      const buckets = (response.aggregations?.shares as { buckets?: Record<string, { doc_count: number }> } | undefined)?.buckets ?? {};
      const counts = new Map(names.map((name) => [name, buckets[name]?.doc_count ?? 0]));
      setShares({ state: "ready", total: response.hits.total?.value ?? 0, counts });
    }, (error: unknown) => {
      if (!isAbort(error)) setShares({ state: "error", total: 0, counts: new Map() });
    });
    return () => { controller.abort(); };
  }, [enabled, key, fieldsKey]);
  return shares;
}

interface Aggregated {
  state: PanelState;
  items: { label: string; count: number }[];
  total: number;
  error: ApiError | null;
}

function TopValues({ field, info, stats, loaded }: { field: string; info: FieldInfo | undefined; stats: FieldStats | undefined; loaded: number }) {
  const byAggregation = info?.aggregatable === true && !tail.value.active;
  const [aggregated, setAggregated] = useState<Aggregated>({ state: "loading", items: [], total: 0, error: null });
  const key = runKey();
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
  }, [field, byAggregation, key]);
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

function FieldRow({ info, name, stats, loaded, shares, expanded, onToggle }: {
  info: FieldInfo | undefined; name: string; stats: FieldStats | undefined; loaded: number; shares: Shares | null; expanded: boolean; onToggle: () => void;
}) {
  const type = info?.type ?? "unknown";
  const counted = shares?.state === "ready" ? shares.counts.get(name) : undefined;
  const overResult = counted !== undefined && shares !== null && shares.total > 0;
  const share = overResult ? counted / shares.total : loaded > 0 ? (stats?.count ?? 0) / loaded : 0;
  const shareTitle = overResult
    ? `${formatCount(counted)} of all ${formatCount(shares.total)} matching events have this field`
    : `Share of the ${formatCount(loaded)} loaded events that have this field`;
  const selected = columns.value.includes(name);
  return (
    <li class={`field-row ${expanded ? "expanded" : ""}`} data-field={name}>
      <div class="field-line">
        <button type="button" class="field-toggle" aria-expanded={expanded} onClick={onToggle} title={`${name} (${type})`}>
          <span class={`type-badge type-${typeBadge(type)}`} title={type}>{typeBadge(type)}</span>
          <span class="field-name">{showControls(truncate(name, 120).text)}</span>
          <span class="field-share" title={shareTitle} data-share-of={overResult ? "result" : "loaded"}>{formatPercent(share)}</span>
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
  const needle = filter.trim().toLowerCase();
  const names = [...new Set([...stats.keys(), ...known.keys()])]
    .filter((name) => name.toLowerCase().includes(needle))
    .sort((a, b) => a.localeCompare(b));
  const present = names.filter((name) => (stats.get(name)?.count ?? 0) > 0);
  const absent = names.filter((name) => (stats.get(name)?.count ?? 0) === 0);
  const selected = columns.value.filter((name) => present.includes(name) || absent.includes(name));
  // Over the whole result for the fields the mapping knows (exists on others matches nothing).
  const counted = present.filter((name) => known.has(name)).slice(0, MAX_COUNTED_SHARES);
  const tooMany = results.value.total > MAX_SHARE_COUNTED_EVENTS;
  const shares = useShares(counted, sidebarOpen.value && !tail.value.active && panelState === "ready" && !tooMany);
  const overResult = shares?.state === "ready" && shares.total > 0;
  const row = (name: string) => (
    <FieldRow
      key={name}
      name={name}
      info={known.get(name)}
      stats={stats.get(name)}
      loaded={loaded}
      shares={shares}
      expanded={expanded === name}
      onToggle={() => { setExpanded(expanded === name ? null : name); }}
    />
  );
  if (!sidebarOpen.value) return null;
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
          <div
            class="section-title"
            data-testid="fields-share-basis"
            data-share-of={overResult ? "result" : "loaded"}
            title={overResult || !tooMany ? undefined : `Over ${formatCount(MAX_SHARE_COUNTED_EVENTS)} matching events, the shares are of the loaded ones`}
          >
            {overResult
              ? <>Fields · share of all {formatCount(shares.total)} matching events</>
              : <>Fields in {formatCount(loaded)} loaded events</>}
            {" "}<span class="count-badge">{present.length}</span>
          </div>
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
