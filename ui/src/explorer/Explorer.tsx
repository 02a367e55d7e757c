// The log explorer page: index pattern, query and time on top; fields on the left; the
// histogram and the events in the middle; the open event in a flyout on the right.
// Keys: `/` focuses the query, `j`/`k` move the selection, Enter opens it, Esc closes it.

import { useEffect, useLayoutEffect, useRef } from "preact/hooks";
import { Icon } from "../components/Icon";
import { DocumentFlyout } from "./DocumentFlyout";
import { ExportDialog } from "./ExportDialog";
import { FieldSidebar, visualized } from "./FieldSidebar";
import { HistogramPanel } from "./HistogramPanel";
import { IndexPicker } from "./IndexPicker";
import { QueryBar } from "./QueryBar";
import { openHit, ResultsTable, selectedRow, shownRows } from "./ResultsTable";
import { SavedSearches } from "./SavedSearches";
import { startSearching } from "./search";
import { ShareMenu } from "./ShareMenu";
import { adoptUrlView, canonicalizeUrl, setPreference, sidebarOpen, updateView, view, wrapLines } from "./state";
import { followViewChanges, pauseTail, startTail, stopTail, tail } from "./tail";
import { TimePicker } from "./TimePicker";
import { VisualizePanel } from "./VisualizePanel";

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function moveSelection(delta: number): void {
  const rows = shownRows();
  if (rows.length === 0) return;
  const next = Math.max(0, Math.min(rows.length - 1, selectedRow.peek() + delta));
  selectedRow.value = next;
  document.querySelector(`[data-row="${next}"]`)?.scrollIntoView({ block: "nearest" });
  // With the document open, the selection moves the document too.
  const hit = rows[next];
  if (view.peek().doc && hit) openHit(hit);
}

function useShortcuts(queryInput: { current: HTMLInputElement | null }): void {
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
      if (event.key === "Escape" && view.peek().doc && !isTyping(event.target)) {
        updateView({ doc: null });
        return;
      }
      if (isTyping(event.target)) return;
      if (event.key === "/") {
        event.preventDefault();
        queryInput.current?.focus();
        queryInput.current?.select();
      } else if (event.key === "j") {
        moveSelection(1);
      } else if (event.key === "k") {
        moveSelection(-1);
      } else if (event.key === "Enter") {
        const hit = shownRows()[selectedRow.peek()];
        if (hit && !(event.target instanceof HTMLButtonElement)) openHit(hit);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => { window.removeEventListener("keydown", onKey); };
  }, [queryInput]);
}

function LiveToggle() {
  const state = tail.value;
  if (!state.active) {
    return (
      <button type="button" class="button" title="Follow new events as they arrive" onClick={() => { startTail(); }} data-testid="live-tail">
        <Icon name="play" /><span>Live</span>
      </button>
    );
  }
  return (
    <div class="button-group">
      <button type="button" class="button live-on" title={state.paused ? "Resume: show the buffered events" : "Pause: keep receiving, show later"} onClick={() => { pauseTail(!state.paused); }} data-testid="live-pause">
        <Icon name={state.paused ? "play" : "pause"} />
        <span>{state.paused ? `Resume${state.buffered.length > 0 ? ` (${state.buffered.length})` : ""}` : "Pause"}</span>
      </button>
      <button type="button" class="button" title="Stop the live tail" aria-label="Stop the live tail" onClick={stopTail} data-testid="live-stop">
        <Icon name="close" />
      </button>
    </div>
  );
}

export function Explorer() {
  const queryInput = useRef<HTMLInputElement>(null);
  // A layout effect runs right after the first render instead of after the first paint, so
  // the first searches leave a frame sooner; they are asynchronous and do not hold the paint.
  useLayoutEffect(() => {
    adoptUrlView();
    canonicalizeUrl();
    const stopSearching = startSearching();
    const stopFollowing = followViewChanges();
    return () => {
      stopSearching();
      stopFollowing();
      stopTail();
    };
  }, []);
  useShortcuts(queryInput);
  const doc = view.value.doc;
  const field = visualized.value;
  return (
    <div class={`explorer ${doc ? "with-flyout" : ""}`}>
      <div class="toolbar">
        <IndexPicker />
        <QueryBar inputRef={queryInput} />
        <TimePicker />
      </div>
      <div class="subbar">
        <button type="button" class={`button ghost ${sidebarOpen.value ? "active" : ""}`} aria-pressed={sidebarOpen.value} onClick={() => { setPreference("sidebar", !sidebarOpen.value); }}>
          <Icon name="list" /><span>Fields</span>
        </button>
        <button type="button" class={`button ghost ${wrapLines.value ? "active" : ""}`} aria-pressed={wrapLines.value} onClick={() => { setPreference("wrap", !wrapLines.value); }}>
          <Icon name="wrap" /><span>Wrap lines</span>
        </button>
        <span class="spacer" />
        <LiveToggle />
        <SavedSearches />
        <ShareMenu />
        <ExportDialog />
      </div>
      <div class="explorer-body">
        <FieldSidebar />
        <main class="explorer-main">
          <HistogramPanel />
          {/* Keyed: another field's chart is never shown under this one's name. */}
          {field ? <VisualizePanel key={field} field={field} /> : null}
          <ResultsTable />
        </main>
        {doc ? <DocumentFlyout docRef={doc} /> : null}
      </div>
    </div>
  );
}
