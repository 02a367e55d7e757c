// Live tail: follows /_logfleet/tail for the view's index and query. New events go on top;
// pausing keeps the stream open and buffers what arrives, resuming shows it all.

import { effect, signal } from "@preact/signals";
import { asApiError, isAbort, type ApiError } from "../api/client";
import type { Hit } from "../api/elasticsearch";
import { followTail } from "../api/logfleet";
import { results } from "./search";
import { view } from "./state";

/** Rows kept on screen; older ones fall off the bottom (the search still has them). */
export const MAX_TAIL_ROWS = 5000;
const RETRY_MS = 3000;

export interface Tail {
  active: boolean;
  paused: boolean;
  connected: boolean;
  rows: Hit[];
  buffered: Hit[];
  /** Events received since the tail started. */
  received: number;
  error: ApiError | null;
}

const stopped: Tail = { active: false, paused: false, connected: false, rows: [], buffered: [], received: 0, error: null };

export const tail = signal<Tail>(stopped);

let controller: AbortController | null = null;
let retryTimer: number | undefined;

function connect(index: string, query: string): void {
  controller?.abort();
  const current = new AbortController();
  controller = current;
  window.clearTimeout(retryTimer);
  followTail(index, query, current.signal, (hits) => {
    const state = tail.peek();
    // The newest first, as the table shows time descending.
    const newest = [...hits].reverse();
    tail.value = state.paused
      ? { ...state, connected: true, buffered: [...newest, ...state.buffered], received: state.received + hits.length }
      : { ...state, connected: true, rows: [...newest, ...state.rows].slice(0, MAX_TAIL_ROWS), received: state.received + hits.length };
  }).then(() => {
    // The server closed the stream (a restart, a proxy timeout): follow again.
    if (!current.signal.aborted) retryTimer = window.setTimeout(() => { connect(index, query); }, RETRY_MS);
  }, (error: unknown) => {
    if (isAbort(error) || current.signal.aborted) return;
    const failure = asApiError(error);
    tail.value = { ...tail.peek(), connected: false, error: failure };
    // A refused query stays refused; a lost connection is tried again.
    if (failure.status === 0 || failure.status >= 500) retryTimer = window.setTimeout(() => { connect(index, query); }, RETRY_MS);
  });
  tail.value = { ...tail.peek(), connected: true, error: null };
}

/** Starts the tail, with the loaded page as its first rows unless the view just changed. */
export function startTail(keepLoaded = true): void {
  const { index, query } = view.peek();
  tail.value = { ...stopped, active: true, rows: keepLoaded ? results.peek().hits.slice(0, MAX_TAIL_ROWS) : [] };
  connect(index, query);
}

export function stopTail(): void {
  controller?.abort();
  controller = null;
  window.clearTimeout(retryTimer);
  tail.value = stopped;
}

export function pauseTail(paused: boolean): void {
  const state = tail.peek();
  if (!state.active) return;
  tail.value = paused
    ? { ...state, paused: true }
    : { ...state, paused: false, buffered: [], rows: [...state.buffered, ...state.rows].slice(0, MAX_TAIL_ROWS) };
}

/** Restarts the tail when the index or the query changes while it runs. */
export function followViewChanges(): () => void {
  let previous = "";
  return effect(() => {
    const { index, query } = view.value;
    const key = `${index}\u0000${query}`;
    if (previous !== "" && key !== previous && tail.peek().active) {
      stopTail();
      startTail(false);
    }
    previous = key;
  });
}
