// The rules: state (firing, pending, OK, disabled) with counts, severity, the condition in one
// line, the last evaluation, and enable, edit and delete. Firing rules come first.

import { useState } from "preact/hooks";
import { deleteRule, putRule, type StoredRule } from "../api/alerts";
import { asApiError, type ApiError } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { Icon } from "../components/Icon";
import { Modal } from "../components/Modal";
import { Empty, Failed, Loading } from "../components/StateMessage";
import { formatTime } from "../lib/time";
import { zone } from "../lib/zone";
import { BASE, navigate } from "../router";
import type { AlertsData, Loaded } from "./AlertsPage";
import { conditionSummary, relativeTime } from "./model";

type RuleStateName = "firing" | "pending" | "ok" | "disabled";

export function ruleState(rule: StoredRule): RuleStateName {
  if (rule.enabled === false) return "disabled";
  if ((rule.state?.firing ?? 0) > 0) return "firing";
  if ((rule.state?.pending ?? 0) > 0) return "pending";
  return "ok";
}

const ORDER: Record<RuleStateName, number> = { firing: 0, pending: 1, ok: 2, disabled: 3 };

export function StateBadge({ state, count }: { state: string; count?: number }) {
  const label = state === "ok" ? "OK" : state.charAt(0).toUpperCase() + state.slice(1);
  return <span class={`state-badge state-${state}`} data-state-badge={state}>{label}{count !== undefined && count > 0 ? ` ${count}` : ""}</span>;
}

export function SeverityBadge({ severity }: { severity: string | null | undefined }) {
  if (!severity) return null;
  return <span class={`severity-badge severity-${severity}`}>{severity}</span>;
}

function stripState(rule: StoredRule): StoredRule {
  const copy = { ...rule };
  delete copy.state;
  return copy;
}

export function RulesTable({ data, reload }: { data: Loaded<AlertsData>; reload: () => void }) {
  const [deleting, setDeleting] = useState<{ id: string; name: string } | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [shown, setShown] = useState<RuleStateName | "all">("all");
  if (data.phase === "loading") return <div class="panel" data-panel="Rules" data-state="loading"><Loading /></div>;
  if (data.phase === "error") return <div class="panel" data-panel="Rules" data-state="error"><Failed error={data.error} title="The alert rules could not be read" /></div>;
  const all = Object.entries(data.value.rules);
  const words = search.toLowerCase().split(/\s+/).filter((word) => word !== "");
  const rules = all
    .filter(([, rule]) => shown === "all" || ruleState(rule) === shown)
    .filter(([id, rule]) => words.every((word) => `${id} ${rule.name} ${rule.index} ${rule.severity ?? ""} ${Object.values(rule.labels ?? {}).join(" ")}`.toLowerCase().includes(word)))
    .sort(([idA, a], [idB, b]) => ORDER[ruleState(a)] - ORDER[ruleState(b)] || a.name.localeCompare(b.name) || idA.localeCompare(idB));
  const toggle = async (id: string, rule: StoredRule): Promise<void> => {
    setBusy(id);
    setFailure(null);
    try {
      await putRule(id, { ...stripState(rule), enabled: rule.enabled === false });
      reload();
    } catch (error) {
      setFailure(asApiError(error));
    } finally {
      setBusy(null);
    }
  };
  const remove = async (id: string): Promise<void> => {
    setFailure(null);
    try {
      await deleteRule(id);
      setDeleting(null);
      reload();
    } catch (error) {
      setDeleting(null);
      setFailure(asApiError(error));
    }
  };
  const edit = (id: string): void => { navigate(`${BASE}/alerts/rules/${encodeURIComponent(id)}`); };
  const now = Date.now();
  return (
    <div class="panel" data-panel="Rules" data-state={all.length === 0 ? "empty" : "ready"}>
      {failure ? <ErrorMessage error={failure} title="The rule could not be changed" /> : null}
      {all.length > 0 ? (
        <div class="panel-header rules-filter">
          <input class="text-input" type="search" placeholder="Search by name, id, index, severity or label" aria-label="Search the rules" value={search} onInput={(event) => { setSearch(event.currentTarget.value); }} data-testid="rule-search" />
          <select class="select tall" aria-label="State" value={shown} onChange={(event) => { setShown(event.currentTarget.value as RuleStateName | "all"); }}>
            <option value="all">Any state</option>
            <option value="firing">Firing</option>
            <option value="pending">Pending</option>
            <option value="ok">OK</option>
            <option value="disabled">Disabled</option>
          </select>
          <span class="muted">{rules.length === all.length ? `${all.length} rule${all.length === 1 ? "" : "s"}` : `${rules.length} of ${all.length} rules`}</span>
        </div>
      ) : null}
      {all.length > 0 && rules.length === 0 ? <Empty title="No rule matches"><p class="hint">Change the search or the state.</p></Empty> : null}
      {all.length === 0 ? (
        <Empty title="No alert rules yet">
          <p class="hint">
            A rule counts or measures the events of an index pattern on a schedule (every minute, say) and fires when the
            value crosses its threshold for long enough — per service, endpoint or client when it groups by a field.
          </p>
          <p class="hint">
            Choose <strong>New rule</strong>, or PUT a rule's JSON to <code>/_logfleet/alerts/rules/&lt;id&gt;</code>. The prebuilt
            SLA rules (error rate, p95 latency, brute force, …) are installed on a new data directory unless
            <code> alerts.prebuilt = false</code>.
          </p>
          <div class="empty-actions"><button type="button" class="button primary" onClick={() => { navigate(`${BASE}/alerts/new`); }}><Icon name="plus" /><span>New rule</span></button></div>
        </Empty>
      ) : rules.length === 0 ? null : (
        <div class="data-table-scroll">
          <table class="data-table rules-table">
            <thead>
              <tr><th class="th-plain">State</th><th class="th-plain">Name</th><th class="th-plain">Condition</th><th class="th-plain">Last evaluation</th><th class="th-plain">Enabled</th><th class="th-plain actions-column"><span class="sr-only">Actions</span></th></tr>
            </thead>
            <tbody>
              {rules.map(([id, rule], position) => {
                const state = ruleState(rule);
                const evaluation = rule.state?.last_evaluation;
                const evaluatedAt = evaluation ? Date.parse(evaluation.at) : NaN;
                return (
                  <tr key={id} data-row={position} data-id={id} data-state={state}>
                    <td class="state-cell">
                      <StateBadge state={state} count={state === "firing" ? rule.state?.firing : state === "pending" ? rule.state?.pending : undefined} />
                      {state === "firing" && (rule.state?.pending ?? 0) > 0 ? <StateBadge state="pending" count={rule.state?.pending} /> : null}
                    </td>
                    <td class="rule-name-cell">
                      <a href={`${BASE}/alerts/rules/${encodeURIComponent(id)}`} onClick={(event) => { event.preventDefault(); edit(id); }}>{rule.name}</a>
                      <SeverityBadge severity={rule.severity} />
                      <div class="rule-id muted">{id} · {rule.index}</div>
                    </td>
                    <td class="condition-cell"><code>{conditionSummary(rule)}</code><div class="muted">every {rule.every ?? "1m"}{rule.for && rule.for !== "0s" ? `, for ${rule.for}` : ""}</div></td>
                    <td class="evaluation-cell">
                      {evaluation && Number.isFinite(evaluatedAt) ? (
                        <span title={`${formatTime(evaluatedAt, zone.value, "s")}${evaluation.took_ms !== undefined ? ` · took ${evaluation.took_ms} ms` : ""}`}>{relativeTime(evaluatedAt, now)}</span>
                      ) : <span class="muted">{state === "disabled" ? "—" : "not yet"}</span>}
                      {evaluation?.error ? <div class="evaluation-error" role="alert" title={evaluation.error}>{evaluation.error}</div> : null}
                    </td>
                    <td>
                      <label class="switch" title={rule.enabled === false ? "Enable the rule" : "Disable the rule (it is kept, not evaluated)"}>
                        <input type="checkbox" role="switch" checked={rule.enabled !== false} disabled={busy === id} aria-label={`Enabled: ${rule.name}`} onChange={() => { void toggle(id, rule); }} data-testid="rule-enabled" />
                        <span class="switch-track" aria-hidden="true" />
                      </label>
                    </td>
                    <td class="actions-cell">
                      <button type="button" class="icon-button" title="Edit the rule" aria-label={`Edit ${rule.name}`} onClick={() => { edit(id); }} data-testid="rule-edit"><Icon name="edit" /></button>
                      <button type="button" class="icon-button" title="Delete the rule" aria-label={`Delete ${rule.name}`} onClick={() => { setDeleting({ id, name: rule.name }); }} data-testid="rule-delete"><Icon name="trash" /></button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {deleting ? (
        <Modal title="Delete the rule?" onClose={() => { setDeleting(null); }} testId="confirm-delete">
          <p>
            <strong>{deleting.name}</strong> (<code>{deleting.id}</code>) will no longer be evaluated and its alerts are forgotten. Its history
            stays in <code>logs-alerts-default</code>.
          </p>
          <div class="form-actions">
            <button type="button" class="button" onClick={() => { setDeleting(null); }}>Cancel</button>
            <button type="button" class="button danger" onClick={() => { void remove(deleting.id); }} data-testid="confirm-delete-button">Delete</button>
          </div>
        </Modal>
      ) : null}
    </div>
  );
}
