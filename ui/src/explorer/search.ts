// Runs the explorer's searches whenever the view asks for different events: the field list
// (per index pattern), the histogram and the first page of hits (per run), and further pages
// on demand. Hits are paged with `search_after` inside a point in time, so every page belongs
// to the same snapshot and nothing is skipped or repeated however deep one goes.

import { computed, effect, signal } from "@preact/signals";
import { ApiError, asApiError, isAbort } from "../api/client";
import {
  closePointInTime, fieldCaps, openPointInTime, search, searchPointInTime,
  type Hit, type SearchResponse,
} from "../api/elasticsearch";
import { fieldsFromCaps, type FieldInfo } from "../lib/fields";
import { loadStored, store } from "../lib/storage";
import { histogramInterval, resolveRange, zoneParameter, type Bounds, type HistogramInterval, type Zone } from "../lib/time";
import { buildQuery, buildSort, HIGHLIGHT } from "./query";
import { DEFAULT_INDEX, refreshCount, TIME_FIELD, view, zone } from "./state";

export type PanelState = "loading" | "ready" | "empty" | "error";

export const PAGE_SIZE = 100;
const POINT_IN_TIME_KEEP_ALIVE = "10m";

export interface FieldsResult {
  state: PanelState;
  index: string;
  fields: Map<string, FieldInfo>;
  error: ApiError | null;
}

export interface Results {
  state: PanelState;
  hits: Hit[];
  total: number;
  /** `gte` when the server counted only so far. */
  totalRelation: "eq" | "gte";
  error: ApiError | null;
  loadingMore: boolean;
  moreError: ApiError | null;
  /** Every matching event is loaded. */
  exhausted: boolean;
}

export interface HistogramSeries {
  name: string;
  counts: number[];
}

export interface HistogramResult {
  state: PanelState;
  times: number[];
  series: HistogramSeries[];
  interval: HistogramInterval | null;
  total: number;
  error: ApiError | null;
}

export const fieldsResult = signal<FieldsResult>({ state: "loading", index: "", fields: new Map(), error: null });
export const bounds = signal<Bounds | null>(null);
export const results = signal<Results>({
  state: "loading", hits: [], total: 0, totalRelation: "eq", error: null, loadingMore: false, moreError: null, exhausted: false,
});
export const histogram = signal<HistogramResult>({ state: "loading", times: [], series: [], interval: null, total: 0, error: null });

export const hasTimeField = computed(() => fieldsResult.value.fields.has(TIME_FIELD));

/** The query of the current run, as sent (for aggregations elsewhere: sidebar, export). */
export const runQuery = computed(() => buildQuery(view.value.query, hasTimeField.value ? bounds.value : null));

let runController: AbortController | null = null;
let pointInTime: string | null = null;
let pagingRun: { index: string; query: object; sort: object[]; highlight: boolean } | null = null;
/**
 * A point in time opened alongside the field list, so that the first run of a page need not
 * wait for one before its first page: taken if still fresh when that run starts.
 */
let prefetched: { index: string; openedAt: number; id: Promise<string | null> } | null = null;
const PREFETCH_FRESH_MS = 2000;

function releasePointInTime(): void {
  const unused = prefetched;
  prefetched = null;
  void unused?.id.then((id) => { if (id !== null) closePointInTime(id).catch(() => undefined); });
  if (pointInTime === null) return;
  const id = pointInTime;
  pointInTime = null;
  // Closing early is a courtesy; the server lets it expire otherwise.
  closePointInTime(id).catch(() => undefined);
}

window.addEventListener("pagehide", releasePointInTime);

function prefetchPointInTime(index: string): void {
  releasePointInTime();
  prefetched = { index, openedAt: Date.now(), id: openPointInTime(index, POINT_IN_TIME_KEEP_ALIVE).catch(() => null) };
}

/** The prefetched point in time for `index` if it is fresh, else null; either way it is used up. */
async function takePrefetched(index: string): Promise<string | null> {
  const candidate = prefetched;
  prefetched = null;
  if (!candidate) return null;
  const id = await candidate.id;
  if (id !== null && (candidate.index !== index || Date.now() - candidate.openedAt > PREFETCH_FRESH_MS)) {
    closePointInTime(id).catch(() => undefined);
    return null;
  }
  return id;
}

async function loadFields(index: string, signal: AbortSignal): Promise<void> {
  fieldsResult.value = { ...fieldsResult.peek(), state: "loading", index, error: null };
  try {
    const fields = fieldsFromCaps(await fieldCaps(index, signal));
    fieldsResult.value = { state: fields.size > 0 ? "ready" : "empty", index, fields, error: null };
  } catch (error) {
    if (isAbort(error)) return;
    fieldsResult.value = { state: "error", index, fields: new Map(), error: asApiError(error) };
  }
}

const STACK_SIZE = 5;
const LEVEL_ORDER = ["critical", "error", "warning", "info", "debug"];
export const OTHER_SERIES = "other";
export const ALL_SERIES = "events";

interface StackBucket { key: string | number; key_as_string?: string; doc_count: number }
interface HistogramBucket { key: number; doc_count: number; stack?: { buckets: StackBucket[] } }

function histogramSeries(buckets: HistogramBucket[], stackField: string): HistogramSeries[] {
  if (!stackField) return [{ name: ALL_SERIES, counts: buckets.map((bucket) => bucket.doc_count) }];
  const totals = new Map<string, number>();
  for (const bucket of buckets) {
    for (const term of bucket.stack?.buckets ?? []) {
      const key = term.key_as_string ?? String(term.key);
      totals.set(key, (totals.get(key) ?? 0) + term.doc_count);
    }
  }
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([key]) => key);
  let keys = ranked.slice(0, STACK_SIZE);
  if (stackField === "level" || stackField === "level.keyword") {
    // Severity order, known levels first, whatever their counts.
    const known = LEVEL_ORDER.filter((level) => totals.has(level));
    keys = [...known, ...ranked.filter((key) => !LEVEL_ORDER.includes(key))].slice(0, Math.max(STACK_SIZE, known.length));
  }
  const series = keys.map((name) => ({
    name,
    counts: buckets.map((bucket) => {
      const term = bucket.stack?.buckets.find((candidate) => (candidate.key_as_string ?? String(candidate.key)) === name);
      return term?.doc_count ?? 0;
    }),
  }));
  const other = buckets.map((bucket, index) => bucket.doc_count - series.reduce((sum, one) => sum + (one.counts[index] ?? 0), 0));
  if (other.some((count) => count > 0)) series.push({ name: OTHER_SERIES, counts: other });
  return series;
}

/** What a drawn histogram says of the run's events: each bucket's start and count, and their total. */
interface Counted {
  times: number[];
  counts: number[];
  total: number;
}

/**
 * Draws the histogram; resolves to what it counted, or null if it failed. `onCounted` hears
 * the counts before the chart is drawn, so that a first page waiting on them is asked for first.
 */
async function runHistogram(
  index: string, query: object, range: Bounds, stackField: string, timeZone: Zone, controller: AbortController,
  onCounted: (counted: Counted | null) => void = () => undefined,
): Promise<void> {
  const { signal } = controller;
  const interval = histogramInterval(range);
  histogram.value = { ...histogram.peek(), state: "loading", interval, error: null };
  const dateHistogram = {
    field: TIME_FIELD,
    [interval.kind]: interval.value,
    time_zone: zoneParameter(timeZone),
    min_doc_count: 0,
    extended_bounds: { min: range.from, max: range.to },
  };
  const body = {
    size: 0,
    track_total_hits: true,
    query,
    aggs: {
      histogram: {
        date_histogram: dateHistogram,
        ...(stackField ? { aggs: { stack: { terms: { field: stackField, size: stackField === "level" ? 10 : 20 } } } } : {}),
      },
    },
  };
  try {
    const response = await search(index, body, signal);
    const buckets = (response.aggregations?.histogram as { buckets?: HistogramBucket[] } | undefined)?.buckets ?? [];
    const total = response.hits.total?.value ?? 0;
    onCounted({ times: buckets.map((bucket) => bucket.key), counts: buckets.map((bucket) => bucket.doc_count), total });
    if (total === 0 && holdBack(controller)) return;
    histogram.value = {
      state: total > 0 ? "ready" : "empty",
      times: buckets.map((bucket) => bucket.key),
      series: histogramSeries(buckets, stackField),
      interval,
      total,
      error: null,
    };
  } catch (error) {
    onCounted(null);
    if (isAbort(error) || holdBack(controller)) return;
    histogram.value = { state: "error", times: [], series: [], interval, total: 0, error: asApiError(error) };
  }
}

/**
 * The first page of a time sort is searched for only in the newest (ascending: the oldest)
 * buckets of the histogram that together hold a page of events. That is the very page the
 * whole range would give — every event outside those buckets sorts after — found without
 * sorting every event of the range, which over millions of events is most of a view's time.
 * The total then comes from the histogram, which counts the events anyway. Null when the
 * slice would be the whole range.
 */
function firstPageSlice(counted: Counted, range: Bounds, order: "asc" | "desc"): Bounds | null {
  const { times, counts } = counted;
  let held = 0;
  for (let step = 0; step < times.length; step += 1) {
    const position = order === "desc" ? times.length - 1 - step : step;
    held += counts[position] ?? 0;
    if (held < PAGE_SIZE) continue;
    const slice = order === "desc"
      ? { from: Math.max(range.from, times[position] ?? range.from), to: range.to }
      : { from: range.from, to: position + 1 < times.length ? Math.min(range.to, (times[position + 1] ?? range.to) - 1) : range.to };
    const whole = slice.from <= range.from && slice.to >= range.to;
    return whole ? null : slice;
  }
  return null;
}

interface PageOptions {
  /** Mark what the query matched (nothing to mark without a query). */
  highlight: boolean;
  /** Count every matching event (not needed when the histogram counts them). */
  trackTotal: boolean;
}

function pageBody(query: object, sort: object[], { highlight, trackTotal }: PageOptions, searchAfter: unknown[] | null): object {
  return {
    size: PAGE_SIZE,
    track_total_hits: trackTotal,
    query,
    sort,
    // Without a query there is nothing to mark, and asking costs a pass over every hit's text.
    ...(highlight ? { highlight: HIGHLIGHT } : {}),
    pit: { id: pointInTime, keep_alive: POINT_IN_TIME_KEEP_ALIVE },
    ...(searchAfter ? { search_after: searchAfter } : {}),
  };
}

/** A page in the point in time, opening a new one if the server forgot it. */
async function searchPage(index: string, query: object, sort: object[], options: PageOptions, searchAfter: unknown[] | null, signal: AbortSignal): Promise<SearchResponse> {
  pointInTime ??= await openPointInTime(index, POINT_IN_TIME_KEEP_ALIVE, signal);
  try {
    const response = await searchPointInTime(pageBody(query, sort, options, searchAfter), signal);
    if (response.pit_id) pointInTime = response.pit_id;
    return response;
  } catch (error) {
    const expired = error instanceof ApiError && error.type === "search_context_missing_exception";
    if (!expired) throw error;
    pointInTime = await openPointInTime(index, POINT_IN_TIME_KEEP_ALIVE, signal);
    return searchPointInTime(pageBody(query, sort, options, searchAfter), signal);
  }
}

/** For a time sort, the first page from the slice the histogram points at (see firstPageSlice). */
interface Slicing {
  userQuery: string;
  range: Bounds;
  order: "asc" | "desc";
  counted: Promise<Counted | null>;
}

/**
 * The share of the range searched for a first page before the histogram's counts are known:
 * the newest (ascending: the oldest) sixtieth. When it holds a page, that page is the first
 * page of the whole range, found alongside the histogram instead of after it.
 */
const GUESSED_SLICE_SHARE = 1 / 60;

function guessedSlice(range: Bounds, order: "asc" | "desc"): Bounds {
  const width = Math.max(1, Math.floor((range.to - range.from) * GUESSED_SLICE_SHARE));
  return order === "desc" ? { from: range.to - width, to: range.to } : { from: range.from, to: range.from + width };
}

/** The first page and the histogram's total, or null when slicing does not apply or fell short. */
async function slicedFirstPage(index: string, slicing: Slicing, sort: object[], highlight: boolean, signal: AbortSignal): Promise<{ hits: Hit[]; total: number } | null> {
  // The guessed slice's page leaves at once, alongside the histogram.
  const guess = guessedSlice(slicing.range, slicing.order);
  const early = searchPage(index, buildQuery(slicing.userQuery, guess), sort, { highlight, trackTotal: false }, null, signal)
    .catch(() => null);
  const counted = await slicing.counted;
  const guessed = await early;
  if (!counted || signal.aborted) return null;
  if (guessed && guessed.hits.hits.length >= PAGE_SIZE) return { hits: guessed.hits.hits, total: counted.total };
  const slice = firstPageSlice(counted, slicing.range, slicing.order);
  if (!slice) return null;
  const response = await searchPage(index, buildQuery(slicing.userQuery, slice), sort, { highlight, trackTotal: false }, null, signal);
  // Short of a page (a bucket moved under a write): the whole range answers instead.
  if (response.hits.hits.length < PAGE_SIZE) return null;
  return { hits: response.hits.hits, total: counted.total };
}

async function runHits(index: string, query: object, slicing: Slicing | null, sort: object[], highlight: boolean, controller: AbortController): Promise<void> {
  const { signal } = controller;
  results.value = { ...results.peek(), state: "loading", error: null, moreError: null, loadingMore: false };
  try {
    const fresh = await takePrefetched(index);
    releasePointInTime();
    pointInTime = fresh;
    const sliced = slicing ? await slicedFirstPage(index, slicing, sort, highlight, signal) : null;
    if (signal.aborted) return;
    let page: { hits: Hit[]; total: number; relation: "eq" | "gte" } | null = sliced ? { ...sliced, relation: "eq" } : null;
    if (!page) {
      const response = await searchPage(index, query, sort, { highlight, trackTotal: true }, null, signal);
      page = { hits: response.hits.hits, total: response.hits.total?.value ?? response.hits.hits.length, relation: response.hits.total?.relation ?? "eq" };
    }
    const { hits, total, relation } = page;
    if (hits.length === 0 && holdBack(controller)) return;
    pagingRun = { index, query, sort, highlight };
    results.value = {
      state: hits.length > 0 ? "ready" : "empty",
      hits,
      total,
      totalRelation: relation,
      error: null,
      loadingMore: false,
      moreError: null,
      exhausted: hits.length < PAGE_SIZE || (relation === "eq" && total <= hits.length),
    };
  } catch (error) {
    if (isAbort(error) || holdBack(controller)) return;
    results.value = { ...results.peek(), state: "error", hits: [], total: 0, error: asApiError(error), exhausted: true };
  }
}

/** Loads the next page after the last loaded hit. */
export async function loadMore(): Promise<void> {
  const current = results.peek();
  const last = current.hits[current.hits.length - 1];
  const run = pagingRun;
  if (current.state !== "ready" || current.exhausted || current.loadingMore || !last?.sort || !run) return;
  const controller = runController;
  if (!controller) return;
  results.value = { ...current, loadingMore: true, moreError: null };
  try {
    const response = await searchPage(run.index, run.query, run.sort, { highlight: run.highlight, trackTotal: false }, last.sort, controller.signal);
    if (pagingRun !== run) return;
    const page = response.hits.hits;
    const latest = results.peek();
    results.value = { ...latest, hits: [...latest.hits, ...page], loadingMore: false, exhausted: page.length < PAGE_SIZE };
  } catch (error) {
    if (isAbort(error)) return;
    results.value = { ...results.peek(), loadingMore: false, moreError: asApiError(error) };
  }
}

// What makes a new run: any of these changing, or the refresh button.
const searchKey = computed(() => {
  const { index, query, range, sort } = view.value;
  return JSON.stringify({ index, query, range, sort, zone: zone.value, refresh: refreshCount.value });
});
const stackKey = computed(() => view.value.stack);

/**
 * The field to stack the histogram by: the chosen one when it aggregates, else its `.keyword`
 * sub-field (plain indexes map strings as text with one), else none.
 */
function stackFieldFor(name: string): string {
  if (!name) return "";
  const fields = fieldsResult.peek().fields;
  if (fields.get(name)?.aggregatable) return name;
  if (fields.get(`${name}.keyword`)?.aggregatable) return `${name}.keyword`;
  return "";
}

/**
 * What an index pattern's field list said the last time it was read, in this browser: whether
 * there is a time field, and which field each stacking choice aggregates on. A first run is
 * guessed from it (see `speculation`).
 */
interface FieldFacts {
  timed: boolean;
  stacks: Record<string, string>;
}
const FIELD_FACTS_KEY = "explorer.fieldFacts";
const FIELD_FACTS_KEPT = 20;
/**
 * The default pattern's facts before any visit: Logfleet's `logs-*` template maps `@timestamp`
 * as a date and `level` as a keyword.
 */
const DEFAULT_FACTS: FieldFacts = { timed: true, stacks: { level: "level" } };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null;
const isFieldFacts = (value: unknown): value is FieldFacts =>
  isObject(value) && typeof value.timed === "boolean" && isObject(value.stacks) &&
  Object.values(value.stacks).every((field) => typeof field === "string");
const isFactsByIndex = (value: unknown): value is Record<string, FieldFacts> =>
  isObject(value) && Object.values(value).every(isFieldFacts);

function knownFacts(index: string): FieldFacts | null {
  return loadStored(FIELD_FACTS_KEY, {}, isFactsByIndex)[index] ?? (index === DEFAULT_INDEX ? DEFAULT_FACTS : null);
}

/** Remembers what `fields` say of `index` for the stacking field `stack` (the newest patterns kept). */
function rememberFacts(index: string, stack: string): void {
  const facts = loadStored(FIELD_FACTS_KEY, {}, isFactsByIndex);
  const stacks = { ...(Object.hasOwn(facts, index) ? facts[index]?.stacks : {}), [stack]: stackFieldFor(stack) };
  const kept = Object.entries(facts).filter(([name]) => name !== index).slice(-(FIELD_FACTS_KEPT - 1));
  store(FIELD_FACTS_KEY, Object.fromEntries([...kept, [index, { timed: hasTimeField.peek(), stacks }]]));
}

/**
 * A run begun before the index's field list arrived, on what the list said last time (or, for
 * the default pattern, on what its template maps): on a first load this takes the field list's
 * round trip out of the time to the first events. When the fields arrive the guess is checked:
 * the run stands if it asked for what a run would ask for now, and is made again otherwise.
 * Until then an outcome that may come of a wrong guess (no events, an error) is held back
 * instead of shown.
 */
let speculation: { controller: AbortController; signature: string; heldBack: boolean } | null = null;

/** Whether `controller`'s run is an unconfirmed guess; if so its empty or failed outcome is held back. */
function holdBack(controller: AbortController): boolean {
  if (speculation?.controller !== controller) return false;
  speculation.heldBack = true;
  return true;
}

function run(fields: FieldsResult): void {
  const { index, query, range, sort, stack } = view.peek();
  const guessing = fields.state === "loading" || fields.index !== index;
  const facts = guessing ? knownFacts(index) : null;
  const guessedStack = facts && Object.hasOwn(facts.stacks, stack) ? facts.stacks[stack] : undefined;
  if (guessing && (!facts || guessedStack === undefined)) {
    // Nothing to guess from: the run waits for the fields.
    speculation = null;
    runController?.abort();
    runController = null;
    return;
  }
  const timed = facts ? facts.timed : hasTimeField.peek();
  const stackField = guessedStack ?? stackFieldFor(stack);
  if (!guessing && fields.state === "ready") rememberFacts(index, stack);
  const signature = JSON.stringify({ key: searchKey.peek(), timed, stackField });
  const guess = speculation;
  if (guess?.signature === signature && guess.controller === runController && !guess.controller.signal.aborted) {
    // The same guess is already out; or, the fields known, it was right: its searches are
    // this run's, unless what it found was held back.
    if (guessing) return;
    speculation = null;
    if (!guess.heldBack) return;
  }
  speculation = null;
  runController?.abort();
  const controller = new AbortController();
  runController = controller;
  pagingRun = null;
  if (guessing) speculation = { controller, signature, heldBack: false };
  if (fields.state === "error" && fields.error && !guessing) {
    results.value = { ...results.peek(), state: "error", hits: [], total: 0, error: fields.error };
    histogram.value = { ...histogram.peek(), state: "error", error: fields.error };
    return;
  }
  const resolved = resolveRange(range, zone.peek());
  if (!resolved) {
    const invalid = new ApiError(0, "invalid_time_range", `[${range.from}] to [${range.to}] is not a valid time range`);
    results.value = { ...results.peek(), state: "error", hits: [], total: 0, error: invalid };
    histogram.value = { ...histogram.peek(), state: "error", error: invalid };
    return;
  }
  bounds.value = resolved;
  const dsl = buildQuery(query, timed ? resolved : null);
  let counted: Promise<Counted | null> | null = null;
  if (timed) {
    counted = new Promise((resolve) => {
      void runHistogram(index, dsl, resolved, stackField, zone.peek(), controller, resolve);
    });
  } else {
    histogram.value = { state: "empty", times: [], series: [], interval: null, total: 0, error: null };
  }
  const slicing = counted && sort.field === TIME_FIELD ? { userQuery: query, range: resolved, order: sort.order, counted } : null;
  void runHits(index, dsl, slicing, buildSort(sort, timed), query.trim() !== "", controller);
}

/** Starts following the view; returns the function that stops it. */
export function startSearching(): () => void {
  let fieldsController: AbortController | null = null;
  const stopFields = effect(() => {
    const index = view.value.index;
    if (fieldsResult.peek().index === index && fieldsResult.peek().state !== "loading") return;
    fieldsController?.abort();
    fieldsController = new AbortController();
    results.value = { ...results.peek(), state: "loading", hits: [], total: 0 };
    histogram.value = { ...histogram.peek(), state: "loading" };
    prefetchPointInTime(index);
    void loadFields(index, fieldsController.signal);
  });
  const stopRuns = effect(() => {
    if (searchKey.value === "") return;
    // A run on a guess while the fields of this index load, checked once they are known
    // (they say whether there is a time field and how the stacking field aggregates).
    run(fieldsResult.value);
  });
  let firstStack = true;
  const stopStack = effect(() => {
    const stack = stackKey.value;
    if (firstStack) {
      firstStack = false;
      return;
    }
    const range = bounds.peek();
    const controller = runController;
    if (!range || !controller || !hasTimeField.peek()) return;
    void runHistogram(view.peek().index, runQuery.peek(), range, stackFieldFor(stack), zone.peek(), controller);
  });
  return () => {
    stopFields();
    stopRuns();
    stopStack();
    fieldsController?.abort();
    runController?.abort();
    releasePointInTime();
  };
}

/** Aggregations over the current run's events (sidebar, visualize): same index, query, range. */
export function aggregate(aggs: object, signal: AbortSignal): Promise<SearchResponse> {
  return search(view.peek().index, { size: 0, track_total_hits: true, query: runQuery.peek(), aggs }, signal);
}
