// /_ui/alerts: the rules with their alerts' states, the alerts that fire, silences and the
// history of changes, one tab each (each at its own path). The rules, alerts and silences
// are read together and again every ten seconds, as Grafana's alerting list does.

import { useCallback, useEffect, useState } from "preact/hooks";
import { activeAlerts, listRules, listSilences, type ActiveAlert, type Silence, type StoredRule } from "../api/alerts";
import { asApiError, isAbort, type ApiError } from "../api/client";
import { Icon } from "../components/Icon";
import { BASE, navigate, type AlertsTab } from "../router";
import { ActiveAlerts } from "./ActiveAlerts";
import { History } from "./History";
import { RulesTable } from "./RulesTable";
import { SilenceForm, Silences, type SilenceDraft } from "./Silences";

const REFRESH_MS = 10_000;

export interface AlertsData {
  rules: Record<string, StoredRule>;
  alerts: ActiveAlert[];
  silences: Silence[];
}

export type Loaded<T> = { phase: "loading" } | { phase: "ready"; value: T } | { phase: "error"; error: ApiError };

/** The rules, active alerts and silences, read together and refreshed on a timer. */
function useAlertsData(): { data: Loaded<AlertsData>; reload: () => void } {
  const [data, setData] = useState<Loaded<AlertsData>>({ phase: "loading" });
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => { setGeneration((value) => value + 1); }, []);
  useEffect(() => {
    const controller = new AbortController();
    Promise.all([listRules(controller.signal), activeAlerts(controller.signal), listSilences(controller.signal)]).then(
      ([rules, alerts, silences]) => { setData({ phase: "ready", value: { rules, alerts, silences } }); },
      (error: unknown) => { if (!isAbort(error)) setData({ phase: "error", error: asApiError(error) }); },
    );
    const timer = window.setTimeout(reload, REFRESH_MS);
    return () => { controller.abort(); window.clearTimeout(timer); };
  }, [generation]);
  return { data, reload };
}

const TABS: { tab: AlertsTab; label: string }[] = [
  { tab: "rules", label: "Alert rules" },
  { tab: "firing", label: "Firing & pending" },
  { tab: "silences", label: "Silences" },
  { tab: "history", label: "History" },
];

const tabPath = (tab: AlertsTab): string => (tab === "rules" ? `${BASE}/alerts` : `${BASE}/alerts/${tab}`);

export function AlertsPage({ tab }: { tab: AlertsTab }) {
  const { data, reload } = useAlertsData();
  const [silencing, setSilencing] = useState<SilenceDraft | null>(null);
  const ready = data.phase === "ready" ? data.value : null;
  const firing = ready?.alerts.filter((alert) => alert.state === "firing").length ?? 0;
  const pending = ready?.alerts.filter((alert) => alert.state === "pending").length ?? 0;
  const activeSilences = ready?.silences.filter((silence) => silence.active).length ?? 0;
  const counts: Partial<Record<AlertsTab, string>> = ready
    ? { rules: String(Object.keys(ready.rules).length), firing: String(firing + pending), silences: String(activeSilences) }
    : {};
  return (
    <div class="alerts-page">
      <div class="list-header">
        <h1>Alerts</h1>
        {ready ? (
          <span class="alert-summary" data-testid="alert-summary">
            <span class={`state-badge ${firing > 0 ? "state-firing" : "state-ok"}`}>{firing} firing</span>
            <span class={`state-badge ${pending > 0 ? "state-pending" : "state-ok"}`}>{pending} pending</span>
          </span>
        ) : null}
        <span class="spacer" />
        <button type="button" class="button" onClick={reload} title="Read the rules, alerts and silences again (they refresh every 10 seconds)"><Icon name="refresh" /><span>Refresh</span></button>
        <button type="button" class="button" onClick={() => { setSilencing({ matchers: [{ name: "alertname", value: "", isRegex: false, isEqual: true }] }); }} data-testid="new-silence"><Icon name="pause" /><span>New silence</span></button>
        <button type="button" class="button primary" onClick={() => { navigate(`${BASE}/alerts/new`); }} data-testid="new-rule"><Icon name="plus" /><span>New rule</span></button>
      </div>
      <nav class="tabs page-tabs" aria-label="Alerts">
        {TABS.map((one) => (
          <button
            type="button"
            key={one.tab}
            class={one.tab === tab ? "active" : ""}
            aria-current={one.tab === tab ? "page" : undefined}
            data-tab={one.tab}
            onClick={() => { navigate(tabPath(one.tab)); }}
          >
            {one.label}
            {counts[one.tab] !== undefined ? <span class={`count-pill ${one.tab === "firing" && firing > 0 ? "count-firing" : ""}`}>{counts[one.tab]}</span> : null}
          </button>
        ))}
      </nav>
      {tab === "rules" ? <RulesTable data={data} reload={reload} /> : null}
      {tab === "firing" ? <ActiveAlerts data={data} onSilence={setSilencing} /> : null}
      {tab === "silences" ? <Silences data={data} reload={reload} /> : null}
      {tab === "history" ? <History rules={ready?.rules ?? {}} /> : null}
      {silencing ? (
        <SilenceForm
          initial={silencing}
          data={ready}
          onClose={() => { setSilencing(null); }}
          onCreated={() => { setSilencing(null); reload(); navigate(tabPath("silences")); }}
        />
      ) : null}
    </div>
  );
}
