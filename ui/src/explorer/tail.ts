// Live tail: follows /_logfleet/tail for the view's index and query. New events go on top;
// pausing keeps the stream open and buffers what arrives, resuming shows it all.
//
// The stream alone can lose events: the server skips writes for a subscriber that falls
// behind (`event: missed`), and nothing arrives while the connection is down. Either way the
// tail catches up with a search from the newest event it has seen, and says so on screen.

import { effect, signal } from "@preact/signals";
import { asApiError, isAbort, type ApiError } from "../api/client";
import { search, type Hit } from "../api/elasticsearch";
import { followTail } from "../api/logfleet";
import { buildQuery, buildSort } from "./query";
import { hasTimeField, results } from "./search";
import { DEFAULT_SORT, TIME_FIELD, view } from "./state";

/** Rows kept on screen; older ones fall off the bottom (the search still has them). */
export const MAX_TAIL_ROWS = 5000;
const RETRY_MS = 3000;
/** The most events one catch-up search brings back. */
export const MAX_CATCH_UP = 1000;
/**
 * How far before the tail's start a first catch-up looks: events acknowledged just before
 * the start may have missed the loaded page. Duplicates are dropped by id.
 */
const START_SLACK_MS = 5000;

/** Why the tail caught up, what it found, and what it could not show. */
export interface TailGap {
  reason: "missed" | "reconnected";
  /** Groups of writes the server skipped, when it said. */
  missedBatches: number | null;
  state: "loading" | "ready" | "error";
  /** Events the catch-up search found that the tail had not shown. */
  recovered: number;
  /** Events of the gap beyond what one search brings back. */
  notShown: number;
  error: ApiError | null;
}

export interface Tail {
  active: boolean;
  paused: boolean;
  connected: boolean;
  rows: Hit[];
  buffered: Hit[];
  /** Events received since the tail started. */
  received: number;
  error: ApiError | null;
  /** The latest catch-up after skipped events or a lost connection. */
  gap: TailGap | null;
}

const stopped: Tail = { active: false, paused: false, connected: false, rows: [], buffered: [], received: 0, error: null, gap: null };

export const tail = signal<Tail>(stopped);

let controller: AbortController | null = null;
let retryTimer: number | undefined;
/** The newest event time the tail has shown or buffered (ms), or where it started looking. */
let seenUntil = 0;

const hitKey = (hit: Hit): string => `${hit._index}/${hit._id}`;

function hitTime(hit: Hit): number | null {
  const value = hit._source?.[TIME_FIELD];
  const time = typeof value === "string" || typeof value === "number" ? new Date(value).getTime() : Number.NaN;
  return Number.isFinite(time) ? time : null;
}

function noteSeen(hits: Hit[]): void {
  for (const hit of hits) {
    const time = hitTime(hit);
    if (time !== null && time > seenUntil) seenUntil = time;
  }
}

/** `hits` merged into `existing`, newest first, without the ones it already holds. */
function mergeNewestFirst(existing: Hit[], hits: Hit[]): Hit[] {
  const known = new Set(existing.map(hitKey));
  const fresh = hits.filter((hit) => !known.has(hitKey(hit)));
  if (fresh.length === 0) return existing;
  return [...fresh, ...existing]
    .map((hit, position) => ({ hit, position, time: hitTime(hit) ?? Number.NEGATIVE_INFINITY }))
    .sort((a, b) => b.time - a.time || a.position - b.position)
    .map(({ hit }) => hit);
}

function receive(hits: Hit[]): void {
  const state = tail.peek();
  noteSeen(hits);
  // The newest first, as the table shows time descending.
  const newest = [...hits].reverse();
  tail.value = state.paused
    ? { ...state, connected: true, buffered: [...newest, ...state.buffered], received: state.received + hits.length }
    : { ...state, connected: true, rows: [...newest, ...state.rows].slice(0, MAX_TAIL_ROWS), received: state.received + hits.length };
}

/**
 * Searches for the events since the newest one seen, and adds those the stream did not
 * bring. Events that arrive on the stream meanwhile are kept; duplicates are dropped by id.
 */
async function catchUp(index: string, query: string, reason: TailGap["reason"], missedBatches: number | null, signal: AbortSignal): Promise<void> {
  const timed = hasTimeField.peek();
  const since = seenUntil;
  tail.value = { ...tail.peek(), gap: { reason, missedBatches, state: "loading", recovered: 0, notShown: 0, error: null } };
  const setGap = (gap: Partial<TailGap>): void => {
    const current = tail.peek();
    if (current.gap) tail.value = { ...current, gap: { ...current.gap, ...gap } };
  };
  try {
    // No upper bound: what the stream brings meanwhile is dropped as a duplicate.
    const after = timed ? [{ range: { [TIME_FIELD]: { gte: new Date(since).toISOString(), format: "strict_date_optional_time" } } }] : [];
    const response = await search(index, {
      size: MAX_CATCH_UP,
      track_total_hits: true,
      query: buildQuery(query, null, after),
      sort: buildSort(DEFAULT_SORT, timed),
    }, signal);
    const hits = response.hits.hits;
    const total = response.hits.total?.value ?? hits.length;
    const state = tail.peek();
    if (!state.active || signal.aborted) return;
    const shown = new Set([...state.rows, ...state.buffered].map(hitKey));
    const recovered = hits.filter((hit) => !shown.has(hitKey(hit)));
    noteSeen(recovered);
    tail.value = {
      ...state,
      ...(state.paused
        ? { buffered: mergeNewestFirst(state.buffered, recovered) }
        : { rows: mergeNewestFirst(state.rows, recovered).slice(0, MAX_TAIL_ROWS) }),
      received: state.received + recovered.length,
    };
    setGap({ state: "ready", recovered: recovered.length, notShown: Math.max(0, total - hits.length) });
  } catch (error) {
    if (isAbort(error) || signal.aborted) return;
    setGap({ state: "error", error: asApiError(error) });
  }
}

function connect(index: string, query: string, resumed: boolean): void {
  controller?.abort();
  const current = new AbortController();
  controller = current;
  window.clearTimeout(retryTimer);
  const retry = (): void => {
    retryTimer = window.setTimeout(() => { connect(index, query, true); }, RETRY_MS);
  };
  followTail(index, query, current.signal, {
    // Once the new stream is open, what arrived while there was none is searched for.
    onOpen: () => { if (resumed) void catchUp(index, query, "reconnected", null, current.signal); },
    onHits: receive,
    onMissed: (batches) => { void catchUp(index, query, "missed", batches, current.signal); },
  }).then(() => {
    // The server closed the stream (a restart, a proxy timeout): follow again.
    if (!current.signal.aborted) retry();
  }, (error: unknown) => {
    if (isAbort(error) || current.signal.aborted) return;
    const failure = asApiError(error);
    tail.value = { ...tail.peek(), connected: false, error: failure };
    // A refused query stays refused; a lost connection is tried again.
    if (failure.status === 0 || failure.status >= 500) retry();
  });
  tail.value = { ...tail.peek(), connected: true, error: null };
}

/** Starts the tail, with the loaded page as its first rows unless the view just changed. */
export function startTail(keepLoaded = true): void {
  const { index, query } = view.peek();
  const rows = keepLoaded ? results.peek().hits.slice(0, MAX_TAIL_ROWS) : [];
  tail.value = { ...stopped, active: true, rows };
  seenUntil = Date.now() - START_SLACK_MS;
  connect(index, query, false);
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

/** Hides the note about the latest catch-up. */
export function dismissTailGap(): void {
  tail.value = { ...tail.peek(), gap: null };
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
