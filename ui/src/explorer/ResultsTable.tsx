// The events: chosen columns (add, remove, reorder by drag or buttons, resize by the header's
// edge), sort by time or any sortable column, highlighted matches, and paging through every
// match with `search_after` (a "Load more" button and infinite scroll). Rows carry `data-row`.

import { effect, signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Hit } from "../api/elasticsearch";
import { HighlightedText } from "../components/HighlightedText";
import { Icon } from "../components/Icon";
import { Empty, Failed, Loading } from "../components/StateMessage";
import { isDate, isNumeric, isSortable, type FieldInfo } from "../lib/fields";
import { displayValue, flattenSource, formatCount, showControls, truncate } from "../lib/format";
import { levelClass } from "../lib/theme";
import { formatTimestampValue } from "../lib/time";
import { columns, DEFAULT_WIDTHS, moveColumn, removeColumn } from "./columns";
import { widenCurrentRange } from "./HistogramPanel";
import { fieldsResult, loadMore, results, type PanelState } from "./search";
import { columnWidths, setColumnWidth, SOURCE_COLUMN, TIME_FIELD, updateView, view, wrapLines, zone } from "./state";
import { dismissTailGap, MAX_TAIL_ROWS, pauseTail, tail, type TailGap } from "./tail";

/** The selected row (j/k), as an index into the shown rows. */
export const selectedRow = signal(-1);

// A new search starts the selection over: on the open event when it is among the new rows,
// else before the first row (j selects it). Pages added by "Load more" keep it.
let previousState: PanelState = results.peek().state;
effect(() => {
  const { state, hits } = results.value;
  if (previousState === "loading" && state !== "loading") {
    const doc = view.peek().doc;
    selectedRow.value = doc ? hits.findIndex((hit) => hit._index === doc.index && hit._id === doc.id) : -1;
  }
  previousState = state;
});

const CELL_CHARACTERS = 400;
/** The least a column without a set width (the last one, at least) keeps. */
const MIN_FLEXIBLE_WIDTH = 160;
const WRAPPED_CELL_CHARACTERS = 4000;
const SUMMARY_FIELDS = 24;

export function hitKey(hit: Hit): string {
  return `${hit._index}/${hit._id}`;
}

/** The rows on screen: the live tail's when it runs, else the search's. */
export function shownRows(): Hit[] {
  return tail.value.active ? tail.value.rows : results.value.hits;
}

export function openHit(hit: Hit): void {
  updateView({ doc: { index: hit._index, id: hit._id } });
}

function Cell({ hit, column, fields }: { hit: Hit; column: string; fields: Map<string, unknown> }) {
  const max = wrapLines.value ? WRAPPED_CELL_CHARACTERS : CELL_CHARACTERS;
  if (column === SOURCE_COLUMN) {
    const entries = [...fields.entries()].slice(0, SUMMARY_FIELDS);
    return (
      <dl class="source-summary">
        {entries.map(([name, value]) => (
          <span class="summary-pair" key={name}>
            <dt>{showControls(truncate(name, 80).text)}</dt>
            <dd>{showControls(truncate(displayValue(value), 160).text)}</dd>
          </span>
        ))}
      </dl>
    );
  }
  const value = fields.get(column);
  if (value === undefined) return <span class="missing">—</span>;
  if (column === TIME_FIELD) return <span class="timestamp">{formatTimestampValue(value, zone.value)}</span>;
  const fragment = hit.highlight?.[column]?.[0];
  if (fragment !== undefined) return <HighlightedText fragment={fragment} max={max} />;
  const text = displayValue(value);
  if (column === "level" && typeof value === "string") return <span class={levelClass(value)}>{showControls(truncate(text, 40).text)}</span>;
  return <>{showControls(truncate(text, max).text)}</>;
}

function HeaderCell({ column, position, count }: { column: string; position: number; count: number }) {
  const field = fieldsResult.value.fields.get(column);
  const sort = view.value.sort;
  const sortable = column !== SOURCE_COLUMN && isSortable(field);
  const sorted = sort.field === column;
  const [dropping, setDropping] = useState(false);
  const startResize = (event: PointerEvent): void => {
    event.preventDefault();
    event.stopPropagation();
    const header = (event.currentTarget as HTMLElement).parentElement;
    if (!header) return;
    const startX = event.clientX;
    const startWidth = header.getBoundingClientRect().width;
    const move = (moved: PointerEvent): void => { setColumnWidth(column, Math.max(60, startWidth + moved.clientX - startX)); };
    const up = (): void => {
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", up);
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", up);
  };
  const toggleSort = (): void => {
    if (!sortable) return;
    updateView({ sort: { field: column, order: sorted && sort.order === "desc" ? "asc" : "desc" } });
  };
  return (
    <th
      scope="col"
      class={`${dropping ? "drop-target" : ""} ${sorted ? "sorted" : ""}`}
      draggable
      aria-sort={sorted ? (sort.order === "asc" ? "ascending" : "descending") : undefined}
      data-column={column}
      onDragStart={(event) => { event.dataTransfer?.setData("application/x-logfleet-column", column); }}
      onDragOver={(event) => {
        if (event.dataTransfer?.types.includes("application/x-logfleet-column")) {
          event.preventDefault();
          setDropping(true);
        }
      }}
      onDragLeave={() => { setDropping(false); }}
      onDrop={(event) => {
        event.preventDefault();
        setDropping(false);
        const moved = event.dataTransfer?.getData("application/x-logfleet-column");
        if (moved && moved !== column) moveColumn(moved, position);
      }}
    >
      <div class="th-content">
        <button type="button" class={`th-name ${sortable ? "sortable" : ""}`} onClick={toggleSort} title={sortable ? `Sort by ${column}` : `${column} (not sortable)`} disabled={!sortable}>
          {column === SOURCE_COLUMN ? "Document" : column}
          {sorted ? <Icon name={sort.order === "asc" ? "arrowUp" : "arrowDown"} /> : null}
        </button>
        <span class="th-actions">
          <button type="button" class="icon-button" aria-label={`Move ${column} left`} title="Move left" disabled={position === 0} onClick={() => { moveColumn(column, position - 1); }}>
            <Icon name="chevronLeft" />
          </button>
          <button type="button" class="icon-button" aria-label={`Move ${column} right`} title="Move right" disabled={position === count - 1} onClick={() => { moveColumn(column, position + 1); }}>
            <Icon name="chevronRight" />
          </button>
          {column !== SOURCE_COLUMN ? (
            <button type="button" class="icon-button" aria-label={`Remove column ${column}`} title="Remove column" onClick={() => { removeColumn(column); }}>
              <Icon name="close" />
            </button>
          ) : null}
        </span>
      </div>
      {/* The last column takes the width left over, so it has no edge to drag. */}
      {position < count - 1 ? (
        <span class="resize-handle" onPointerDown={startResize} role="separator" aria-orientation="vertical" aria-label={`Resize ${column}`} />
      ) : null}
    </th>
  );
}

/** Widths for columns whose values are short whatever the event: numbers, dates, addresses. */
function typeWidth(field: FieldInfo | undefined): number | undefined {
  if (!field) return undefined;
  if (isNumeric(field)) return 110;
  if (isDate(field)) return 200;
  if (field.types.every((type) => type === "boolean")) return 90;
  if (field.types.every((type) => type === "ip")) return 140;
  return undefined;
}

/** A column's set width (resized, its default, its type's), or undefined: the last one has none. */
function columnWidth(column: string, position: number, count: number, widths: Record<string, number>): number | undefined {
  if (position === count - 1) return undefined;
  return widths[column] ?? DEFAULT_WIDTHS[column] ?? typeWidth(fieldsResult.value.fields.get(column));
}

/**
 * The table's least width: the set widths plus room for the others. With a fixed layout, set
 * widths that add up to more than the table would otherwise squeeze the rest (the message,
 * often) to nothing; past this width the table scrolls sideways instead.
 */
function minTableWidth(shown: string[], widths: Record<string, number>): number {
  return shown.reduce((sum, column, position) => sum + (columnWidth(column, position, shown.length, widths) ?? MIN_FLEXIBLE_WIDTH), 0);
}

function LoadMore() {
  const sentinel = useRef<HTMLDivElement>(null);
  const state = results.value;
  const live = tail.value.active;
  useEffect(() => {
    const element = sentinel.current;
    if (!element || live) return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void loadMore();
    }, { rootMargin: "400px" });
    observer.observe(element);
    return () => { observer.disconnect(); };
  }, [live, state.exhausted, state.hits.length]);
  if (live) {
    return <div class="table-footer">Showing the newest {formatCount(Math.min(MAX_TAIL_ROWS, tail.value.rows.length))} events of the live tail.</div>;
  }
  return (
    <div class="table-footer" ref={sentinel}>
      <span data-testid="loaded-count">
        {formatCount(state.hits.length)} of {state.totalRelation === "gte" ? "≥ " : ""}{formatCount(state.total)} events loaded
      </span>
      {state.moreError ? <Failed error={state.moreError} title="The next page failed" /> : null}
      {state.exhausted ? <span class="hint">All matching events are loaded.</span> : (
        <button type="button" class="button" onClick={() => { void loadMore(); }} disabled={state.loadingMore}>
          {state.loadingMore ? "Loading…" : "Load more"}
        </button>
      )}
    </div>
  );
}

function TailBanner() {
  const state = tail.value;
  if (!state.active) return null;
  return (
    <div class={`tail-banner ${state.paused ? "paused" : ""}`} data-testid="tail-banner">
      <span class={`live-dot ${state.paused ? "" : "pulsing"}`} aria-hidden="true" />
      {state.paused ? "Live tail paused" : "Live tail"} · {formatCount(state.received)} new since it started
      {state.paused && state.buffered.length > 0 ? (
        <button type="button" class="button primary" onClick={() => { pauseTail(false); }}>
          Show {formatCount(state.buffered.length)} new events
        </button>
      ) : null}
      {state.error ? <span class="invalid-text"> · {state.error.type}: {state.error.reason}</span> : null}
      {state.gap ? <TailGapNote gap={state.gap} /> : null}
    </div>
  );
}

function gapCause(gap: TailGap): string {
  if (gap.reason === "reconnected") return "The live tail lost its connection and reconnected.";
  const batches = gap.missedBatches === null ? "some writes" : `${formatCount(gap.missedBatches)} ${gap.missedBatches === 1 ? "batch" : "batches"} of writes`;
  return `The live tail fell behind: the server skipped ${batches} for it.`;
}

/** Says that the stream lost events, and what the search for them found. */
function TailGapNote({ gap }: { gap: TailGap }) {
  return (
    <div class="tail-gap" role="status" data-testid="tail-gap" data-state={gap.state}>
      <span>{gapCause(gap)}</span>
      {gap.state === "loading" ? <span>Searching for the events of the gap…</span> : null}
      {gap.state === "ready" ? (
        <span>
          A search found {formatCount(gap.recovered)} {gap.recovered === 1 ? "event" : "events"} of the gap; {gap.recovered === 1 ? "it is" : "they are"} in the table.
          {gap.notShown > 0 ? ` ${formatCount(gap.notShown)} more are not shown: stop the tail and search to see them all.` : ""}
        </span>
      ) : null}
      {gap.state === "error" && gap.error ? <span class="invalid-text">The search for them failed: {gap.error.type}: {gap.error.reason}</span> : null}
      <button type="button" class="icon-button" aria-label="Dismiss" title="Dismiss" onClick={dismissTailGap}><Icon name="close" /></button>
    </div>
  );
}

function tableState(): PanelState {
  const state = tail.value;
  if (!state.active) return results.value.state;
  if (state.error && state.rows.length === 0) return "error";
  return state.rows.length > 0 ? "ready" : "empty";
}

export function ResultsTable() {
  const panelState = tableState();
  const rows = shownRows();
  const shown = columns.value;
  const widths = columnWidths.value;
  const selected = selectedRow.value;
  const openDoc = view.value.doc;
  const state = results.value;
  const live = tail.value.active;
  const error = (live ? tail.value.error : null) ?? state.error;
  // The query bar shows a refused query's error, pointing into it; the table need not repeat it.
  const queryFailed = !live && error?.status === 400 && view.value.query.trim() !== "";
  return (
    <section class="panel results-panel" data-panel="Events" data-state={panelState}>
      <TailBanner />
      {panelState === "loading" && rows.length === 0 ? <Loading label="Searching…" /> : null}
      {panelState === "error" && error && queryFailed ? <Empty title="No events: the query failed (the error is under the query bar)" /> : null}
      {panelState === "error" && error && !queryFailed ? <Failed error={error} title="The search failed" /> : null}
      {panelState === "empty" ? (
        live ? <Empty title="Waiting for new events…" /> : (
          <Empty title="No events in this range — widen it">
            <div class="empty-actions">
              <button type="button" class="button primary" onClick={widenCurrentRange}>Widen the time range</button>
              {view.value.query ? <button type="button" class="button" onClick={() => { updateView({ query: "" }); }}>Clear the query</button> : null}
            </div>
          </Empty>
        )
      ) : null}
      {rows.length > 0 && panelState !== "error" ? (
        <div class={`table-scroll ${panelState === "loading" ? "refreshing" : ""}`}>
          <table class={`events-table ${wrapLines.value ? "wrap" : ""}`} style={{ minWidth: `${minTableWidth(shown, widths)}px` }}>
            <colgroup>
              {shown.map((column, position) => {
                const width = columnWidth(column, position, shown.length, widths);
                return <col key={column} style={width ? { width: `${width}px` } : undefined} />;
              })}
            </colgroup>
            <thead>
              <tr>
                {shown.map((column, position) => <HeaderCell key={column} column={column} position={position} count={shown.length} />)}
              </tr>
            </thead>
            <tbody>
              {rows.map((hit, index) => {
                const fields = flattenSource(hit._source);
                const isOpen = openDoc?.index === hit._index && openDoc.id === hit._id;
                return (
                  <tr
                    key={hitKey(hit)}
                    data-row={index}
                    data-id={hit._id}
                    class={`${index === selected ? "selected" : ""} ${isOpen ? "open" : ""}`}
                    onClick={() => {
                      selectedRow.value = index;
                      openHit(hit);
                    }}
                  >
                    {shown.map((column) => (
                      <td key={column} class={`cell-${column === TIME_FIELD ? "time" : column === SOURCE_COLUMN ? "source" : "value"}`}>
                        <Cell hit={hit} column={column} fields={fields} />
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
          <LoadMore />
        </div>
      ) : null}
    </section>
  );
}
