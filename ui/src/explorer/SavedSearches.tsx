// Saved searches (/_logfleet/saved-searches): open one, save the current view as a new one or
// over the open one, rename, delete.

import { signal } from "@preact/signals";
import { useEffect, useState } from "preact/hooks";
import { asApiError, isAbort, type ApiError } from "../api/client";
import { createSavedSearch, deleteSavedSearch, listSavedSearches, updateSavedSearch, type SavedSearch } from "../api/logfleet";
import { ErrorMessage } from "../components/ErrorMessage";
import { Icon } from "../components/Icon";
import { Popover } from "../components/Popover";
import { isStringArray } from "../lib/storage";
import { DEFAULT_SORT, updateView, view, type SortSpec } from "./state";

/**
 * What a saved search keeps: the view without the open document. Saved searches are the
 * server's, and a script may write one with less: only index, query and range are required.
 */
export interface SavedState {
  index: string;
  query: string;
  range: { from: string; to: string };
  columns?: string[] | null;
  sort?: Partial<SortSpec>;
  stack?: string;
}

/** The saved search the view came from, to save over it. */
export const openSaved = signal<{ id: string; name: string } | null>(null);

function currentState(): SavedState {
  const { index, query, range, columns, sort, stack } = view.peek();
  return { index, query, range, columns, sort, stack };
}

function isSavedState(value: unknown): value is SavedState {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Partial<SavedState>;
  return typeof state.index === "string" && typeof state.query === "string" && typeof state.range?.from === "string" && typeof state.range.to === "string";
}

function applySaved(saved: SavedSearch): void {
  if (!isSavedState(saved.state)) return;
  const state = saved.state;
  openSaved.value = { id: saved.id, name: saved.name };
  updateView({
    index: state.index,
    query: state.query,
    range: state.range,
    columns: isStringArray(state.columns) && state.columns.length > 0 ? state.columns : null,
    // What it does not say is the default, not whatever the view had before.
    sort: typeof state.sort?.field === "string" && state.sort.field ? { field: state.sort.field, order: state.sort.order === "asc" ? "asc" : "desc" } : DEFAULT_SORT,
    stack: typeof state.stack === "string" ? state.stack : "level",
    doc: null,
  });
}

function SavedList({ close }: { close: () => void }) {
  const [list, setList] = useState<SavedSearch[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [name, setName] = useState(openSaved.value?.name ?? "");
  const [renaming, setRenaming] = useState<{ id: string; name: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    listSavedSearches(controller.signal).then((searches) => { setList(searches); setError(null); }, (failure: unknown) => {
      if (!isAbort(failure)) setError(asApiError(failure));
    });
    return () => { controller.abort(); };
  }, [version]);
  const act = (work: () => Promise<unknown>): void => {
    setBusy(true);
    work().then(() => { setBusy(false); setError(null); setVersion(version + 1); }, (failure: unknown) => {
      setBusy(false);
      setError(asApiError(failure));
    });
  };
  const save = (asNew: boolean): void => {
    const trimmed = name.trim();
    if (!trimmed) return;
    const target = openSaved.value;
    act(async () => {
      const saved = !asNew && target ? await updateSavedSearch(target.id, trimmed, currentState()) : await createSavedSearch(trimmed, currentState());
      openSaved.value = { id: saved.id, name: saved.name };
    });
  };
  const rename = (saved: SavedSearch, newName: string): void => {
    const trimmed = newName.trim();
    if (!trimmed) return;
    setRenaming(null);
    act(async () => {
      const renamed = await updateSavedSearch(saved.id, trimmed, saved.state);
      // The open search goes by its new name, and "Save" over it keeps that name.
      if (openSaved.peek()?.id === renamed.id) {
        openSaved.value = { id: renamed.id, name: renamed.name };
        setName(renamed.name);
      }
    });
  };
  const target = openSaved.value;
  return (
    <div class="saved-list" data-panel="Saved searches" data-state={error ? "error" : list === null ? "loading" : list.length > 0 ? "ready" : "empty"}>
      <form class="saved-form" onSubmit={(event) => { event.preventDefault(); save(false); }}>
        <input class="text-input" value={name} placeholder="Name of this search" aria-label="Saved search name" onInput={(event) => { setName(event.currentTarget.value); }} />
        <button type="submit" class="button primary" disabled={busy || !name.trim()}>{target ? "Save" : "Save new"}</button>
        {target ? <button type="button" class="button" disabled={busy || !name.trim()} onClick={() => { save(true); }}>Save as new</button> : null}
      </form>
      {error ? <ErrorMessage error={error} title={error.status === 404 && list === null ? "Saved searches are not available on this server" : "Saved searches failed"} /> : null}
      {list === null && !error ? <p class="hint">Loading saved searches…</p> : null}
      {list?.length === 0 ? <p class="hint">No saved searches yet.</p> : null}
      <ul class="menu-list">
        {(list ?? []).map((saved) => (
          <li key={saved.id} class="saved-item">
            {renaming?.id === saved.id ? (
              <form class="saved-form" onSubmit={(event) => { event.preventDefault(); rename(saved, renaming.name); }}>
                <input class="text-input" value={renaming.name} aria-label="New name" onInput={(event) => { setRenaming({ id: saved.id, name: event.currentTarget.value }); }} />
                <button type="submit" class="button primary" disabled={!renaming.name.trim()}>Rename</button>
                <button type="button" class="button" onClick={() => { setRenaming(null); }}>Cancel</button>
              </form>
            ) : (
              <>
                <button type="button" class={`menu-item ${target?.id === saved.id ? "active" : ""}`} onClick={() => { applySaved(saved); close(); }} disabled={!isSavedState(saved.state)}>
                  <span class="menu-text">{saved.name}</span>
                  <span class="menu-detail">{isSavedState(saved.state) ? saved.state.query || "(all events)" : "(not an explorer search)"}</span>
                </button>
                {confirming === saved.id ? (
                  <>
                    <button type="button" class="button danger small" onClick={() => { setConfirming(null); act(() => deleteSavedSearch(saved.id)); if (target?.id === saved.id) openSaved.value = null; }}>Delete</button>
                    <button type="button" class="button small" onClick={() => { setConfirming(null); }}>Keep</button>
                  </>
                ) : (
                  <>
                    <button type="button" class="icon-button" aria-label={`Rename ${saved.name}`} title="Rename" onClick={() => { setRenaming({ id: saved.id, name: saved.name }); }}><Icon name="edit" /></button>
                    <button type="button" class="icon-button" aria-label={`Delete ${saved.name}`} title="Delete" onClick={() => { setConfirming(saved.id); }}><Icon name="trash" /></button>
                  </>
                )}
              </>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function SavedSearches() {
  const target = openSaved.value;
  return (
    <Popover title="Saved searches" align="right" panelClass="saved-panel" testId="saved-searches" label={<><Icon name="save" /><span>{target ? target.name : "Saved"}</span></>}>
      {(close) => <SavedList close={close} />}
    </Popover>
  );
}
