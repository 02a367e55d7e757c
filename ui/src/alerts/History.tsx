// The history: the newest changes of alerts (pending, firing, resolved), read from the
// `logs-alerts-default` data stream like any other events, with a link to the same events in
// the explorer.

import { useEffect, useState } from "preact/hooks";
import { alertHistory, HISTORY_STREAM, type StoredRule } from "../api/alerts";
import { asApiError, isAbort, type ApiError } from "../api/client";
import { Icon } from "../components/Icon";
import { Empty, Failed, Loading } from "../components/StateMessage";
import { formatTime } from "../lib/time";
import { formatValue } from "../lib/units";
import { zone } from "../lib/zone";
import { BASE, navigate } from "../router";
import { groupText, readHistoryEvent, ruleUnit, type HistoryEvent } from "./model";
import { StateBadge } from "./RulesTable";

const SIZE = 200;

type State = { phase: "loading" } | { phase: "ready"; events: HistoryEvent[] } | { phase: "error"; error: ApiError };

export function History({ rules }: { rules: Record<string, StoredRule> }) {
  const [state, setState] = useState<State>({ phase: "loading" });
  useEffect(() => {
    const controller = new AbortController();
    alertHistory(SIZE, controller.signal).then(
      (response) => {
        const events = response.hits.hits.map((hit) => readHistoryEvent(hit._source)).filter((event): event is HistoryEvent => event !== null);
        setState({ phase: "ready", events });
      },
      (error: unknown) => {
        if (isAbort(error)) return;
        setState({ phase: "error", error: asApiError(error) });
      },
    );
    return () => { controller.abort(); };
  }, []);
  const explorerParameters = new URLSearchParams({ index: HISTORY_STREAM, from: "now-24h", to: "now", q: "NOT _exists_:alert.delivery.channel" });
  for (const column of ["alert.state", "alert.name", "message"]) explorerParameters.append("column", column);
  const explorerHref = `${BASE}/explorer?${explorerParameters.toString()}`;
  const listState = state.phase === "ready" ? (state.events.length === 0 ? "empty" : "ready") : state.phase;
  return (
    <div class="panel" data-panel="History" data-state={listState}>
      <div class="panel-header">
        <span class="panel-title">Recent changes</span>
        <span class="panel-note muted">the newest {SIZE} state changes, from <code>{HISTORY_STREAM}</code></span>
        <span class="spacer" />
        <a class="button small" href={explorerHref} onClick={(event) => { event.preventDefault(); navigate(explorerHref); }} data-testid="history-explorer"><Icon name="search" /><span>Open in the explorer</span></a>
      </div>
      {state.phase === "loading" ? <Loading /> : null}
      {state.phase === "error" ? <Failed error={state.error} title="The history could not be read" /> : null}
      {state.phase === "ready" && state.events.length === 0 ? <Empty title="No changes yet"><p class="hint">Each time an alert becomes pending, fires or resolves, an event is written here.</p></Empty> : null}
      {state.phase === "ready" && state.events.length > 0 ? (
        <div class="data-table-scroll">
          <table class="data-table history-table">
            <thead><tr><th class="th-plain">Time</th><th class="th-plain">State</th><th class="th-plain">Rule</th><th class="th-plain">Group</th><th class="th-plain numeric">Value</th><th class="th-plain">Message</th></tr></thead>
            <tbody>
              {state.events.map((event, position) => {
                const rule = rules[event.rule];
                return (
                  <tr key={`${event.time}-${position}`} data-row={position} data-rule={event.rule} data-state={event.state}>
                    <td class="cell-time">{formatTime(event.time, zone.value, "s")}</td>
                    <td>
                      <StateBadge state={event.state} />
                      {event.repeat ? <span class="state-badge state-repeat" title="A reminder: it still fired">reminder</span> : null}
                      {event.silenced ? <span class="state-badge state-silenced">silenced</span> : null}
                    </td>
                    <td>
                      {rule
                        ? <a href={`${BASE}/alerts/rules/${encodeURIComponent(event.rule)}`} onClick={(click) => { click.preventDefault(); navigate(`${BASE}/alerts/rules/${encodeURIComponent(event.rule)}`); }}>{event.name}</a>
                        : event.name}
                    </td>
                    <td>{groupText(event.group) || <span class="muted">—</span>}</td>
                    <td class="numeric">{rule ? formatValue(event.value, ruleUnit(rule)) : (event.value ?? "—")}</td>
                    <td class="message-cell" title={event.message}>{event.message}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
