// The open event, in a side flyout: its fields as a table (filter for / out, toggle column,
// copy), the whole event as JSON text, and the events around it (ContextView).

import { useEffect, useState } from "preact/hooks";
import { ApiError, asApiError, isAbort } from "../api/client";
import { getDocument, type Hit } from "../api/elasticsearch";
import { CopyButton } from "../components/CopyButton";
import { Icon } from "../components/Icon";
import { Failed, Loading } from "../components/StateMessage";
import { typeBadge } from "../lib/fields";
import { displayValue, filterValue, flattenSource, formatBytes, showControls } from "../lib/format";
import { addClause, existsClause, filterClause } from "../lib/lucene";
import { formatTimestampValue } from "../lib/time";
import { columns, toggleColumn } from "./columns";
import { ContextView } from "./ContextView";
import { hitKey, selectedRow, shownRows } from "./ResultsTable";
import { fieldsResult, type PanelState } from "./search";
import { TIME_FIELD, updateView, view, zone, type DocumentRef, type DocumentTab } from "./state";

/** Values longer than this show their start and a button for the rest. */
const LONG_VALUE = 10_000;

export function filterBy(field: string, value: unknown, exclude: boolean): void {
  const text = filterValue(value);
  const clause = text === null ? existsClause(field, !exclude) : filterClause(field, text, exclude);
  updateView({ query: addClause(view.peek().query, clause), doc: null });
}

function LongText({ text }: { text: string }) {
  const [all, setAll] = useState(false);
  if (all || text.length <= LONG_VALUE) return <>{showControls(text)}</>;
  return (
    <>
      {showControls(text.slice(0, LONG_VALUE))}…{" "}
      <button type="button" class="link-button" onClick={() => { setAll(true); }}>
        Show all {text.length.toLocaleString("en-US")} characters ({formatBytes(new Blob([text]).size)})
      </button>
    </>
  );
}

function FieldsTable({ hit }: { hit: Hit }) {
  const fields = flattenSource(hit._source);
  const known = fieldsResult.value.fields;
  const shown = columns.value;
  return (
    <table class="fields-table">
      <tbody>
        {[...fields.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, value]) => {
          const isTime = name === TIME_FIELD;
          const text = isTime ? formatTimestampValue(value, zone.value) : displayValue(value);
          const type = known.get(name)?.type ?? "unknown";
          const scalar = !Array.isArray(value);
          return (
            <tr key={name} data-field={name}>
              <th scope="row">
                <span class={`type-badge type-${typeBadge(type)}`} title={type}>{typeBadge(type)}</span>
                <span class="field-name">{showControls(name)}</span>
              </th>
              <td class="field-value">
                <LongText text={text} />
                {isTime ? <div class="raw-value">{displayValue(value)}</div> : null}
              </td>
              <td class="field-actions">
                {scalar ? (
                  <>
                    <button type="button" class="icon-button" title="Filter for this value" aria-label={`Filter for ${name}`} onClick={() => { filterBy(name, value, false); }}>
                      <Icon name="filterIn" />
                    </button>
                    <button type="button" class="icon-button" title="Filter out this value" aria-label={`Filter out ${name}`} onClick={() => { filterBy(name, value, true); }}>
                      <Icon name="filterOut" />
                    </button>
                  </>
                ) : null}
                <button type="button" class={`icon-button ${shown.includes(name) ? "active" : ""}`} title={shown.includes(name) ? "Remove the column" : "Add as a column"} aria-label={`Toggle column ${name}`} onClick={() => { toggleColumn(name); }}>
                  <Icon name="columns" />
                </button>
                <CopyButton compact label={`Copy the value of ${name}`} text={() => (typeof value === "string" ? value : JSON.stringify(value))} />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function JsonView({ hit }: { hit: Hit }) {
  const json = JSON.stringify({ _index: hit._index, _id: hit._id, _source: hit._source ?? {} }, null, 2);
  return (
    <div class="json-view">
      <div class="json-actions">
        <CopyButton label="Copy JSON" text={() => JSON.stringify(hit._source ?? {}, null, 2)} />
      </div>
      <pre class="json" data-testid="document-json"><LongText text={json} /></pre>
    </div>
  );
}

/** The open document: from the rows on screen, else fetched by id (a shared link). */
function useDocument(ref: DocumentRef): { state: PanelState; hit: Hit | null; error: ApiError | null } {
  const rows = shownRows();
  const loaded = rows.find((hit) => hit._index === ref.index && hit._id === ref.id) ?? null;
  const [fetched, setFetched] = useState<{ key: string; hit: Hit | null; error: ApiError | null } | null>(null);
  const key = `${ref.index}/${ref.id}`;
  useEffect(() => {
    if (loaded) return undefined;
    const controller = new AbortController();
    getDocument(ref.index, ref.id, controller.signal).then((response) => {
      setFetched(response.found
        ? { key, hit: { _index: response._index, _id: response._id, _source: response._source ?? {} }, error: null }
        : { key, hit: null, error: new ApiError(404, "not_found", `no document [${ref.id}] in [${ref.index}]`) });
    }, (error: unknown) => {
      if (!isAbort(error)) setFetched({ key, hit: null, error: asApiError(error) });
    });
    return () => { controller.abort(); };
  }, [key, loaded === null]);
  if (loaded) return { state: "ready", hit: loaded, error: null };
  if (fetched?.key !== key) return { state: "loading", hit: null, error: null };
  return { state: fetched.hit ? "ready" : "error", hit: fetched.hit, error: fetched.error };
}

const TABS: { id: DocumentTab; label: string }[] = [
  { id: "table", label: "Fields" },
  { id: "json", label: "JSON" },
  { id: "context", label: "Context" },
];

export function DocumentFlyout({ docRef }: { docRef: DocumentRef }) {
  const { state, hit, error } = useDocument(docRef);
  const tab = view.value.tab;
  const rows = shownRows();
  const position = hit ? rows.findIndex((row) => hitKey(row) === hitKey(hit)) : -1;
  const step = (delta: number): void => {
    const next = rows[position + delta];
    if (!next) return;
    selectedRow.value = position + delta;
    updateView({ doc: { index: next._index, id: next._id }, tab });
  };
  const timestamp = hit ? flattenSource(hit._source).get(TIME_FIELD) : undefined;
  return (
    <aside class="flyout" aria-label="Document" data-panel="Document" data-state={state}>
      <header class="flyout-header">
        <div class="flyout-title">
          <div class="flyout-heading">{timestamp !== undefined ? formatTimestampValue(timestamp, zone.value) : "Document"}</div>
          <div class="flyout-subtitle">
            <span title="Index">{docRef.index}</span> · <span title="Id">{docRef.id}</span>
          </div>
        </div>
        <div class="flyout-nav">
          <button type="button" class="icon-button" aria-label="Previous event (k)" title="Previous event (k)" disabled={position <= 0} onClick={() => { step(-1); }}>
            <Icon name="arrowUp" />
          </button>
          <button type="button" class="icon-button" aria-label="Next event (j)" title="Next event (j)" disabled={position === -1 || position >= rows.length - 1} onClick={() => { step(1); }}>
            <Icon name="arrowDown" />
          </button>
          <button type="button" class="icon-button" aria-label="Close (Esc)" title="Close (Esc)" onClick={() => { updateView({ doc: null }); }}>
            <Icon name="close" />
          </button>
        </div>
      </header>
      <nav class="tabs" role="tablist">
        {TABS.map((candidate) => (
          <button
            type="button"
            role="tab"
            key={candidate.id}
            aria-selected={tab === candidate.id}
            class={tab === candidate.id ? "active" : ""}
            onClick={() => { updateView({ tab: candidate.id }); }}
          >
            {candidate.label}
          </button>
        ))}
      </nav>
      <div class="flyout-body">
        {state === "loading" ? <Loading label="Loading the event…" /> : null}
        {state === "error" && error ? <Failed error={error} title="The event could not be loaded" /> : null}
        {hit && tab === "table" ? <FieldsTable hit={hit} /> : null}
        {hit && tab === "json" ? <JsonView hit={hit} /> : null}
        {hit && tab === "context" ? <ContextView hit={hit} /> : null}
      </div>
    </aside>
  );
}
