// Silences, as Alertmanager's: matchers on an alert's labels and a span during which its
// notifications are not sent. The list (active first, then pending, then expired), the form
// that creates one (showing which active alerts it would match), and expire or delete.

import { useState } from "preact/hooks";
import { createSilence, deleteSilence, type Matcher, type Silence } from "../api/alerts";
import { asApiError, type ApiError } from "../api/client";
import { ErrorMessage } from "../components/ErrorMessage";
import { Icon } from "../components/Icon";
import { Modal } from "../components/Modal";
import { Empty, Failed, Loading } from "../components/StateMessage";
import { formatTime, parseAbsolute } from "../lib/time";
import { zone } from "../lib/zone";
import type { AlertsData, Loaded } from "./AlertsPage";
import { alertLabels, durationMs, groupText, matcherText, matchesLabels, relativeTime } from "./model";

export interface SilenceDraft {
  matchers: Matcher[];
}

type Phase = "active" | "pending" | "expired";

function phaseOf(silence: Silence, now: number): Phase {
  if (silence.active) return "active";
  return silence.starts_at_ms > now ? "pending" : "expired";
}

const ORDER: Record<Phase, number> = { active: 0, pending: 1, expired: 2 };

const OPERATORS: { label: string; isEqual: boolean; isRegex: boolean }[] = [
  { label: "=", isEqual: true, isRegex: false },
  { label: "!=", isEqual: false, isRegex: false },
  { label: "=~", isEqual: true, isRegex: true },
  { label: "!~", isEqual: false, isRegex: true },
];

const DURATIONS = ["30m", "1h", "2h", "4h", "12h", "1d", "7d"];

export function SilenceForm({ initial, data, onClose, onCreated }: {
  initial: SilenceDraft;
  data: AlertsData | null;
  onClose: () => void;
  onCreated: () => void;
}) {
  const [matchers, setMatchers] = useState<Matcher[]>(initial.matchers);
  const [duration, setDuration] = useState("2h");
  const [end, setEnd] = useState("");
  const [comment, setComment] = useState("");
  const [createdBy, setCreatedBy] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const update = (position: number, change: Partial<Matcher>): void => {
    setMatchers(matchers.map((matcher, index) => (index === position ? { ...matcher, ...change } : matcher)));
  };
  const kept = matchers.filter((matcher) => matcher.name.trim() !== "");
  const matched = (data?.alerts ?? []).filter((alert) => matchesLabels(kept, alertLabels(data?.rules[alert.rule], alert.rule, alert.group)));
  const submit = async (): Promise<void> => {
    setProblem(null);
    setFailure(null);
    const now = Date.now();
    let endsAt: number | null;
    if (duration === "custom") endsAt = parseAbsolute(end, zone.value);
    else {
      const span = durationMs(duration);
      endsAt = span === null ? null : now + span;
    }
    const invalid = kept.length === 0 ? "Add at least one matcher (a label name and its value)."
      : endsAt === null ? "The end is not a time (write it as 2026-12-24 18:00)."
        : endsAt <= now ? "The silence must end in the future." : null;
    if (invalid !== null || endsAt === null) {
      setProblem(invalid);
      return;
    }
    setBusy(true);
    try {
      await createSilence({ matchers: kept.map((matcher) => ({ ...matcher, name: matcher.name.trim() })), starts_at_ms: now, ends_at_ms: endsAt, comment, created_by: createdBy });
      onCreated();
    } catch (error) {
      setFailure(asApiError(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title="New silence" onClose={onClose} testId="silence-form" wide>
      <p class="hint">
        Alerts whose labels match every matcher send no notifications while the silence lasts; their changes are still recorded in
        the history, marked silenced. Labels: <code>alertname</code> (the rule's name), <code>rule_id</code>, <code>severity</code>, the
        rule's labels and the fields it groups by.
      </p>
      <div class="field-label">Matchers</div>
      {matchers.map((matcher, position) => (
        <div class="form-row matcher-row" key={position} data-row={position}>
          <input class="text-input" placeholder="label" aria-label="Label name" value={matcher.name} onInput={(event) => { update(position, { name: event.currentTarget.value }); }} data-testid="matcher-name" />
          <select
            class="select tall"
            aria-label="Operator"
            value={OPERATORS.find((one) => one.isEqual === matcher.isEqual && one.isRegex === matcher.isRegex)?.label ?? "="}
            onChange={(event) => {
              const operator = OPERATORS.find((one) => one.label === event.currentTarget.value) ?? OPERATORS[0];
              if (operator) update(position, { isEqual: operator.isEqual, isRegex: operator.isRegex });
            }}
          >
            {OPERATORS.map((operator) => <option key={operator.label} value={operator.label}>{operator.label}</option>)}
          </select>
          <input class="text-input" placeholder={matcher.isRegex ? "regular expression" : "value"} aria-label="Label value" value={matcher.value} onInput={(event) => { update(position, { value: event.currentTarget.value }); }} data-testid="matcher-value" />
          <button type="button" class="icon-button" aria-label="Remove the matcher" title="Remove the matcher" onClick={() => { setMatchers(matchers.filter((_, index) => index !== position)); }}><Icon name="close" /></button>
        </div>
      ))}
      <div><button type="button" class="link-button" onClick={() => { setMatchers([...matchers, { name: "", value: "", isRegex: false, isEqual: true }]); }}>+ add a matcher</button></div>
      <div class="form-row">
        <label class="field-label">Duration
          <select class="select tall" value={duration} onChange={(event) => { setDuration(event.currentTarget.value); }} data-testid="silence-duration">
            {DURATIONS.map((one) => <option key={one} value={one}>{one}</option>)}
            <option value="custom">until a time…</option>
          </select>
        </label>
        {duration === "custom" ? (
          <label class="field-label">Ends at ({zone.value === "utc" ? "UTC" : "local time"})
            <input class="text-input" placeholder="2026-12-24 18:00" value={end} onInput={(event) => { setEnd(event.currentTarget.value); }} />
          </label>
        ) : null}
        <label class="field-label">Created by
          <input class="text-input" placeholder="your name" value={createdBy} onInput={(event) => { setCreatedBy(event.currentTarget.value); }} />
        </label>
      </div>
      <label class="field-label">Comment
        <input class="text-input" placeholder="why: a deploy, a known incident…" value={comment} onInput={(event) => { setComment(event.currentTarget.value); }} data-testid="silence-comment" />
      </label>
      <div class="silence-matches" data-testid="silence-matches">
        {kept.length === 0 ? <span class="muted">No matchers yet.</span> : matched.length === 0 ? <span class="muted">Matches no alert that is active now.</span> : (
          <>
            <span>Matches {matched.length} active alert{matched.length === 1 ? "" : "s"}:</span>
            {matched.slice(0, 6).map((alert) => <span class="label-chip" key={`${alert.rule}-${groupText(alert.group)}`}>{alert.name ?? alert.rule}{groupText(alert.group) ? ` (${groupText(alert.group)})` : ""}</span>)}
          </>
        )}
      </div>
      {problem ? <p class="hint invalid-text" role="alert">{problem}</p> : null}
      {failure ? <ErrorMessage error={failure} title="The silence could not be created" /> : null}
      <div class="form-actions">
        <button type="button" class="button" onClick={onClose}>Cancel</button>
        <button type="button" class="button primary" disabled={busy} onClick={() => { void submit(); }} data-testid="silence-submit">Create silence</button>
      </div>
    </Modal>
  );
}

export function Silences({ data, reload }: { data: Loaded<AlertsData>; reload: () => void }) {
  const [failure, setFailure] = useState<ApiError | null>(null);
  if (data.phase === "loading") return <div class="panel" data-panel="Silences" data-state="loading"><Loading /></div>;
  if (data.phase === "error") return <div class="panel" data-panel="Silences" data-state="error"><Failed error={data.error} title="The silences could not be read" /></div>;
  const now = Date.now();
  const silences = [...data.value.silences].sort((a, b) => ORDER[phaseOf(a, now)] - ORDER[phaseOf(b, now)] || b.ends_at_ms - a.ends_at_ms);
  const act = async (silence: Silence, expire: boolean): Promise<void> => {
    setFailure(null);
    try {
      // The API has no update: expiring keeps a copy that ended now, so the list still shows it.
      if (expire) {
        const ended = Date.now();
        await createSilence({ matchers: silence.matchers, starts_at_ms: Math.min(silence.starts_at_ms, ended - 1), ends_at_ms: ended, comment: silence.comment, created_by: silence.created_by });
      }
      await deleteSilence(silence.id);
      reload();
    } catch (error) {
      setFailure(asApiError(error));
    }
  };
  return (
    <div class="panel" data-panel="Silences" data-state={silences.length === 0 ? "empty" : "ready"}>
      {failure ? <ErrorMessage error={failure} title="The silence could not be changed" /> : null}
      {silences.length === 0 ? (
        <Empty title="No silences">
          <p class="hint">Silence an alert from the <strong>Firing &amp; pending</strong> tab, or create one with <strong>New silence</strong> before a deploy.</p>
        </Empty>
      ) : (
        <div class="data-table-scroll">
          <table class="data-table silences-table">
            <thead><tr><th class="th-plain">State</th><th class="th-plain">Matchers</th><th class="th-plain">Starts</th><th class="th-plain">Ends</th><th class="th-plain">Comment</th><th class="th-plain"><span class="sr-only">Actions</span></th></tr></thead>
            <tbody>
              {silences.map((silence, position) => {
                const phase = phaseOf(silence, now);
                return (
                  <tr key={silence.id} data-row={position} data-id={silence.id} data-state={phase}>
                    <td><span class={`state-badge silence-${phase}`}>{phase}</span></td>
                    <td>{silence.matchers.map((matcher) => <span class="label-chip mono" key={matcherText(matcher)}>{matcherText(matcher)}</span>)}</td>
                    <td title={formatTime(silence.starts_at_ms, zone.value, "s")}>{relativeTime(silence.starts_at_ms, now)}</td>
                    <td title={formatTime(silence.ends_at_ms, zone.value, "s")}>{relativeTime(silence.ends_at_ms, now)}</td>
                    <td class="comment-cell">{silence.comment}{silence.created_by ? <span class="muted"> — {silence.created_by}</span> : null}</td>
                    <td class="actions-cell">
                      {phase === "expired"
                        ? <button type="button" class="button small" onClick={() => { void act(silence, false); }} data-testid="silence-delete"><Icon name="trash" /><span>Delete</span></button>
                        : <button type="button" class="button small" onClick={() => { void act(silence, true); }} data-testid="silence-expire"><Icon name="close" /><span>Expire</span></button>}
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
