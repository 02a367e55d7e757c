// The alerts that are pending or firing, firing first: their rule, group, value, since when,
// whether they flap, and a silence pre-filled with their labels.

import { Icon } from "../components/Icon";
import { Empty, Failed, Loading } from "../components/StateMessage";
import { formatValue } from "../lib/units";
import { formatTime } from "../lib/time";
import { zone } from "../lib/zone";
import { BASE, navigate } from "../router";
import type { AlertsData, Loaded } from "./AlertsPage";
import { alertEventsPath, alertLabels, formatDuration, groupText, matchesLabels, ruleUnit } from "./model";
import { SeverityBadge, StateBadge } from "./RulesTable";
import type { SilenceDraft } from "./Silences";

export function ActiveAlerts({ data, onSilence }: { data: Loaded<AlertsData>; onSilence: (draft: SilenceDraft) => void }) {
  if (data.phase === "loading") return <div class="panel" data-panel="Alerts" data-state="loading"><Loading /></div>;
  if (data.phase === "error") return <div class="panel" data-panel="Alerts" data-state="error"><Failed error={data.error} title="The alerts could not be read" /></div>;
  const { alerts, rules, silences } = data.value;
  const now = Date.now();
  return (
    <div class="panel" data-panel="Alerts" data-state={alerts.length === 0 ? "empty" : "ready"}>
      {alerts.length === 0 ? (
        <Empty title="Nothing is firing">
          <p class="hint">Alerts appear here while a rule's condition holds: pending until it has held for the rule's <code>for</code>, then firing.</p>
        </Empty>
      ) : (
        <div class="data-table-scroll">
          <table class="data-table alerts-table">
            <thead><tr><th class="th-plain">State</th><th class="th-plain">Rule</th><th class="th-plain">Group</th><th class="th-plain numeric">Value</th><th class="th-plain">Since</th><th class="th-plain"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {alerts.map((alert, position) => {
                const rule = rules[alert.rule];
                const since = Date.parse(alert.fired_at ?? alert.active_since ?? "");
                const labels = alertLabels(rule, alert.rule, alert.group);
                const silenced = silences.some((silence) => silence.active && matchesLabels(silence.matchers, labels));
                const group = groupText(alert.group);
                return (
                  <tr key={`${alert.rule}-${group}`} data-row={position} data-rule={alert.rule} data-state={alert.state}>
                    <td class="state-cell">
                      <StateBadge state={alert.state} />
                      {alert.flapping ? <span class="state-badge state-flapping" title="It changed state often lately: notifications are held back until it settles">flapping</span> : null}
                      {silenced ? <span class="state-badge state-silenced" title="An active silence matches it: no notifications are sent">silenced</span> : null}
                    </td>
                    <td>
                      <a href={`${BASE}/alerts/rules/${encodeURIComponent(alert.rule)}`} onClick={(event) => { event.preventDefault(); navigate(`${BASE}/alerts/rules/${encodeURIComponent(alert.rule)}`); }}>{alert.name ?? alert.rule}</a>
                      <SeverityBadge severity={alert.severity} />
                    </td>
                    <td class="group-cell">{group ? Object.entries(alert.group).map(([field, value]) => <span class="label-chip" key={field}><span class="label-name">{field}</span>{typeof value === "string" ? value : JSON.stringify(value)}</span>) : <span class="muted">(all events)</span>}</td>
                    <td class="numeric">{rule ? formatValue(alert.value, ruleUnit(rule)) : String(alert.value ?? "—")}</td>
                    <td title={Number.isFinite(since) ? formatTime(since, zone.value, "s") : ""}>{Number.isFinite(since) ? formatDuration(now - since) : "—"}</td>
                    <td class="actions-cell">
                      <a
                        class="icon-button"
                        href={alertEventsPath(BASE, rule, alert.group)}
                        title={typeof rule?.query === "object" ? "The group's events in the explorer (the rule's Query DSL query has no Lucene form: it is left out)" : "The events behind it in the explorer"}
                        aria-label={`Events of ${alert.name ?? alert.rule}`}
                        onClick={(event) => { event.preventDefault(); navigate(alertEventsPath(BASE, rule, alert.group)); }}
                        data-testid="alert-events"
                      >
                        <Icon name="search" />
                      </a>
                      <button
                        type="button"
                        class="button small"
                        data-testid="silence-alert"
                        onClick={() => {
                          onSilence({
                            matchers: [
                              { name: "alertname", value: alert.name ?? alert.rule, isRegex: false, isEqual: true },
                              ...Object.entries(alert.group).map(([name, value]) => ({ name, value: typeof value === "string" ? value : JSON.stringify(value), isRegex: false, isEqual: true })),
                            ],
                          });
                        }}
                      >
                        <Icon name="pause" /><span>Silence</span>
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
