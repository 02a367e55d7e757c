// View in context: the events just before and after one event, from the same service
// (`app_name`, else `host`), across the whole index pattern and regardless of the query —
// two searches around its `@timestamp`, older ones `lte` sorted descending and newer ones
// `gte` sorted ascending, each extendable by the same step.

import { useEffect, useState } from "preact/hooks";
import { asApiError, isAbort, type ApiError } from "../api/client";
import { search, type Hit } from "../api/elasticsearch";
import { Icon } from "../components/Icon";
import { Failed, Loading } from "../components/StateMessage";
import { displayValue, filterValue, flattenSource, showControls, truncate } from "../lib/format";
import { levelClass } from "../lib/theme";
import { filterClause } from "../lib/lucene";
import { formatTimestampValue } from "../lib/time";
import { hitKey } from "./ResultsTable";
import type { PanelState } from "./search";
import { TIME_FIELD, updateView, view, zone } from "./state";

const STEP = 10;
const CONTEXT_FIELDS = ["app_name", "host"];

interface Side {
  hits: Hit[];
  done: boolean;
  loading: boolean;
}

interface Context {
  state: PanelState;
  older: Side;
  newer: Side;
  error: ApiError | null;
}

function sideQuery(anchor: Hit, field: string | null, value: string | null, time: string, direction: "older" | "newer"): object {
  const filter: object[] = [{ range: { [TIME_FIELD]: { [direction === "older" ? "lte" : "gte"]: time, format: "strict_date_optional_time" } } }];
  if (field !== null && value !== null) filter.push({ term: { [field]: value } });
  return { bool: { filter, must_not: [{ ids: { values: [anchor._id] } }] } };
}

async function fetchSide(anchor: Hit, field: string | null, value: string | null, time: string, direction: "older" | "newer", after: unknown[] | undefined, signal: AbortSignal): Promise<Hit[]> {
  const order = direction === "older" ? "desc" : "asc";
  const response = await search(view.peek().index, {
    size: STEP,
    query: sideQuery(anchor, field, value, time, direction),
    sort: [{ [TIME_FIELD]: { order, unmapped_type: "date" } }, { _doc: order }],
    ...(after ? { search_after: after } : {}),
  }, signal);
  return response.hits.hits;
}

function ContextRow({ hit, anchor }: { hit: Hit; anchor?: boolean }) {
  const fields = flattenSource(hit._source);
  const level = fields.get("level");
  const message = fields.get("message") ?? fields.get("error_message") ?? fields.get("endpoint_signature");
  return (
    <tr class={anchor ? "anchor" : ""} data-context-row={anchor ? "anchor" : hit._id}>
      <td class="cell-time">{formatTimestampValue(fields.get(TIME_FIELD), zone.value)}</td>
      <td>{typeof level === "string" ? <span class={levelClass(level)}>{showControls(truncate(level, 40).text)}</span> : null}</td>
      <td class="context-message">{showControls(truncate(message === undefined ? displayValue(hit._source) : displayValue(message), 400).text)}</td>
    </tr>
  );
}

export function ContextView({ hit }: { hit: Hit }) {
  const fields = flattenSource(hit._source);
  const field = CONTEXT_FIELDS.find((name) => filterValue(fields.get(name)) !== null) ?? null;
  const value = field ? filterValue(fields.get(field)) : null;
  const time = fields.get(TIME_FIELD);
  const [context, setContext] = useState<Context>({ state: "loading", older: { hits: [], done: false, loading: true }, newer: { hits: [], done: false, loading: true }, error: null });
  const [controller] = useState(() => new AbortController());
  useEffect(() => () => { controller.abort(); }, [controller]);

  useEffect(() => {
    if (typeof time !== "string") {
      setContext((current) => ({ ...current, state: "error", error: asApiError(new Error(`the event has no ${TIME_FIELD}`)) }));
      return undefined;
    }
    const local = new AbortController();
    const signal = local.signal;
    setContext({ state: "loading", older: { hits: [], done: false, loading: true }, newer: { hits: [], done: false, loading: true }, error: null });
    Promise.all([
      fetchSide(hit, field, value, time, "older", undefined, signal),
      fetchSide(hit, field, value, time, "newer", undefined, signal),
    ]).then(([older, newer]) => {
      setContext({
        state: older.length + newer.length > 0 ? "ready" : "empty",
        older: { hits: older, done: older.length < STEP, loading: false },
        newer: { hits: newer, done: newer.length < STEP, loading: false },
        error: null,
      });
    }, (error: unknown) => {
      if (!isAbort(error)) setContext((current) => ({ ...current, state: "error", error: asApiError(error) }));
    });
    return () => { local.abort(); };
  }, [hitKey(hit)]);

  const more = (direction: "older" | "newer"): void => {
    if (typeof time !== "string") return;
    const side = context[direction];
    const last = side.hits[side.hits.length - 1];
    setContext((current) => ({ ...current, [direction]: { ...current[direction], loading: true } }));
    fetchSide(hit, field, value, time, direction, last?.sort, controller.signal).then((page) => {
      setContext((current) => ({
        ...current,
        state: "ready",
        [direction]: { hits: [...current[direction].hits, ...page], done: page.length < STEP, loading: false },
      }));
    }, (error: unknown) => {
      if (!isAbort(error)) setContext((current) => ({ ...current, [direction]: { ...current[direction], loading: false }, error: asApiError(error) }));
    });
  };

  // Newest on top, as the main table reads.
  const newer = [...context.newer.hits].reverse();
  return (
    <div class="context-view" data-panel="Context" data-state={context.state}>
      <p class="hint">
        {field ? <>Events from the same <code>{field}</code> (<strong>{showControls(truncate(value ?? "", 80).text)}</strong>) around this one, in <code>{view.value.index}</code>, whatever the query.</>
          : <>This event has no <code>app_name</code> or <code>host</code>: showing every event around it in <code>{view.value.index}</code>.</>}
      </p>
      {context.state === "loading" ? <Loading label="Loading the events around it…" /> : null}
      {context.state === "error" && context.error ? <Failed error={context.error} title="The context could not be loaded" /> : null}
      {context.state === "ready" || context.state === "empty" ? (
        <>
          <div class="context-more">
            {context.newer.done ? <span class="hint">No newer events{field ? ` from this ${field}` : ""}.</span> : (
              <button type="button" class="button" disabled={context.newer.loading} onClick={() => { more("newer"); }}>
                <Icon name="arrowUp" /> {STEP} newer
              </button>
            )}
          </div>
          <table class="context-table">
            <tbody>
              {newer.map((row) => <ContextRow key={hitKey(row)} hit={row} />)}
              <ContextRow hit={hit} anchor />
              {context.older.hits.map((row) => <ContextRow key={hitKey(row)} hit={row} />)}
            </tbody>
          </table>
          <div class="context-more">
            {context.older.done ? <span class="hint">No older events{field ? ` from this ${field}` : ""}.</span> : (
              <button type="button" class="button" disabled={context.older.loading} onClick={() => { more("older"); }}>
                <Icon name="arrowDown" /> {STEP} older
              </button>
            )}
          </div>
          {field && value !== null ? (
            <button
              type="button"
              class="link-button"
              onClick={() => { updateView({ query: filterClause(field, value, false), doc: null }); }}
            >
              Search all events of this {field}
            </button>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
