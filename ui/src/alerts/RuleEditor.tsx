// /_ui/alerts/rules/{id} and /_ui/alerts/new: a rule's editor. The form (or the rule's raw
// JSON, in a tab of its own) on the left, the preview of what it would have done on the
// right; Save PUTs the rule, and the server's reason for refusing it shows under the form.

import { useEffect, useState } from "preact/hooks";
import { getRule, listRules, previewRule, putRule, type RuleBody } from "../api/alerts";
import { ApiError, asApiError, isAbort } from "../api/client";
import { fieldCaps } from "../api/elasticsearch";
import { ErrorMessage } from "../components/ErrorMessage";
import { Icon } from "../components/Icon";
import { Failed, Loading } from "../components/StateMessage";
import { BASE, navigate } from "../router";
import { CHANNEL_TYPES, draftOf, idFromName, METRICS, needsField, newDraft, OPS, RULE_ID, ruleOf, SEVERITIES, type RuleDraft } from "./model";
import { RulePreview, type PreviewState } from "./RulePreview";

type Loaded = { phase: "loading" } | { phase: "ready"; draft: RuleDraft } | { phase: "error"; error: ApiError };

const PREVIEW_RANGES = ["1h", "6h", "24h", "7d"];

/** Timing keys the form shows folded away; the server's defaults when left empty. */
const ADVANCED_TIMING = [
  { key: "delay", label: "Delay", placeholder: "30s", title: "How far behind now each window ends, for events that arrive late" },
  { key: "repeat", label: "Remind every", placeholder: "4h", title: "How often receivers are reminded of an alert that still fires (0s: never)" },
  { key: "group_wait", label: "Group wait", placeholder: "0s", title: "How long the first notification waits for more alerts of the rule to join it" },
  { key: "group_interval", label: "Group interval", placeholder: "1m", title: "The least time between two notifications of the rule's alerts" },
];

function Pairs({ label, pairs, onChange, keyPlaceholder, testId }: { label: string; pairs: [string, string][]; onChange: (pairs: [string, string][]) => void; keyPlaceholder: string; testId: string }) {
  return (
    <div class="pairs" data-testid={testId}>
      {pairs.map(([key, value], position) => (
        <div class="form-row" key={position}>
          <input class="text-input narrow-key" placeholder={keyPlaceholder} aria-label={`${label} name`} value={key} onInput={(event) => { onChange(pairs.map((pair, index) => (index === position ? [event.currentTarget.value, pair[1]] : pair))); }} />
          <input class="text-input grow" placeholder="value" aria-label={`${label} value`} value={value} onInput={(event) => { onChange(pairs.map((pair, index) => (index === position ? [pair[0], event.currentTarget.value] : pair))); }} />
          <button type="button" class="icon-button" aria-label={`Remove the ${label.toLowerCase()}`} title="Remove" onClick={() => { onChange(pairs.filter((_, index) => index !== position)); }}><Icon name="close" /></button>
        </div>
      ))}
      <button type="button" class="link-button" onClick={() => { onChange([...pairs, ["", ""]]); }}>+ add {label.toLowerCase()}</button>
    </div>
  );
}

function RuleForm({ draft, update, fields, isNew, id, setId }: {
  draft: RuleDraft;
  update: (change: Partial<RuleDraft>) => void;
  fields: string[];
  isNew: boolean;
  id: string;
  setId: (id: string) => void;
}) {
  const metric = draft.metric;
  return (
    <div class="rule-form">
      <section class="form-section">
        <h3 class="section-title">Rule</h3>
        <div class="form-row">
          <label class="field-label grow">
            <span class="label-text">Name</span>
            <input class="text-input" value={draft.name} placeholder="Error rate over 5%" onInput={(event) => { update({ name: event.currentTarget.value }); }} data-testid="rule-name" />
          </label>
          <label class="field-label">
            <span class="label-text">Severity</span>
            <select class="select tall" value={draft.severity} onChange={(event) => { update({ severity: event.currentTarget.value }); }} data-testid="rule-severity">
              {SEVERITIES.map((severity) => <option key={severity} value={severity}>{severity}</option>)}
            </select>
          </label>
        </div>
        <div class="form-row">
          <label class="field-label grow">
            <span class="label-text">Id {isNew ? <span class="muted">(in the rule's URL; from the name unless you change it)</span> : null}</span>
            <input class={`text-input mono ${id !== "" && !RULE_ID.test(id) ? "invalid" : ""}`} value={id} disabled={!isNew} placeholder={idFromName(draft.name) || "error-rate"} onInput={(event) => { setId(event.currentTarget.value); }} data-testid="rule-id" />
          </label>
          <label class="inline-label enabled-toggle">
            <input type="checkbox" checked={draft.enabled} onChange={(event) => { update({ enabled: event.currentTarget.checked }); }} /> Enabled
          </label>
        </div>
      </section>
      <section class="form-section">
        <h3 class="section-title">Events</h3>
        <label class="field-label">
          <span class="label-text">Index pattern</span>
          <input class="text-input mono" value={draft.index} placeholder="logs-*" onInput={(event) => { update({ index: event.currentTarget.value }); }} data-testid="rule-index" />
        </label>
        <label class="field-label">
          <span class="label-text">Query <span class="muted">— Lucene (<code>status_code:&gt;=500 AND app_name:auth</code>) or a Query DSL JSON object; every event when empty</span></span>
          <textarea class="text-input mono code-area short" rows={2} spellcheck={false} value={draft.query} onInput={(event) => { update({ query: event.currentTarget.value }); }} data-testid="rule-query" />
        </label>
      </section>
      <section class="form-section">
        <h3 class="section-title">Condition</h3>
        <div class="form-row">
          <label class="field-label grow">
            <span class="label-text">Measure</span>
            <select class="select tall" value={metric} onChange={(event) => { update({ metric: event.currentTarget.value }); }} data-testid="rule-metric">
              {METRICS.map((one) => <option key={one.metric} value={one.metric}>{one.label}</option>)}
            </select>
          </label>
          {needsField(metric) ? (
            <label class="field-label grow">
              <span class="label-text">Field</span>
              <input class="text-input mono" list="rule-fields" value={draft.field} placeholder="duration_ms" onInput={(event) => { update({ field: event.currentTarget.value }); }} data-testid="rule-field" />
            </label>
          ) : null}
        </div>
        {metric === "ratio" ? (
          <>
            <label class="field-label">
              <span class="label-text">Numerator <span class="muted">— the events counted as bad (Lucene or Query DSL)</span></span>
              <input class="text-input mono" value={draft.numerator} placeholder="status_code:>=500" onInput={(event) => { update({ numerator: event.currentTarget.value }); }} data-testid="rule-numerator" />
            </label>
            <label class="field-label">
              <span class="label-text">Denominator <span class="muted">— all the rule's events when empty</span></span>
              <input class="text-input mono" value={draft.denominator} placeholder="(the rule's events)" onInput={(event) => { update({ denominator: event.currentTarget.value }); }} data-testid="rule-denominator" />
            </label>
          </>
        ) : null}
        {metric !== "absence" ? (
          <div class="form-row">
            <label class="field-label">
              <span class="label-text">Is</span>
              <select class="select tall" value={draft.op} onChange={(event) => { update({ op: event.currentTarget.value }); }} data-testid="rule-op">
                {OPS.map((op) => <option key={op} value={op}>{op}</option>)}
              </select>
            </label>
            <label class="field-label">
              <span class="label-text">Threshold {metric === "ratio" ? <span class="muted">(%)</span> : metric === "change" ? <span class="muted">(× the window before)</span> : null}</span>
              <input class={`text-input ${draft.threshold.trim() === "" || !Number.isFinite(Number(draft.threshold)) ? "invalid" : ""}`} type="number" step="any" value={draft.threshold} onInput={(event) => { update({ threshold: event.currentTarget.value }); }} data-testid="rule-threshold" />
            </label>
          </div>
        ) : <p class="hint">Fires when no matching event arrived in the window (per group: a group seen in the last day that went silent).</p>}
        <div class="form-row">
          <label class="field-label" title="The span of events each evaluation looks at">
            <span class="label-text">For the last <span class="muted">(window)</span></span>
            <input class="text-input" value={draft.window} onInput={(event) => { update({ window: event.currentTarget.value }); }} data-testid="rule-window" />
          </label>
          <label class="field-label" title="How often the rule is evaluated">
            <span class="label-text">Check every</span>
            <input class="text-input" value={draft.every} onInput={(event) => { update({ every: event.currentTarget.value }); }} data-testid="rule-every" />
          </label>
          <label class="field-label" title="How long the condition must hold before the alert fires (pending until then)">
            <span class="label-text">Pending period</span>
            <input class="text-input" value={draft.for} onInput={(event) => { update({ for: event.currentTarget.value }); }} data-testid="rule-for" />
          </label>
</div>
        <div class="form-row">
          <label class="field-label grow" title="One alert per value of these fields">
            <span class="label-text">Group by <span class="muted">(fields, comma-separated)</span></span>
            <input class="text-input mono" list="rule-fields" value={draft.groupBy} placeholder="app_name" onInput={(event) => { update({ groupBy: event.currentTarget.value }); }} data-testid="rule-group-by" />
          </label>
        </div>
        <details class="editor-options advanced-timing">
          <summary>More timing: delay, reminders, notification grouping</summary>
          <div class="form-row">
            {ADVANCED_TIMING.map((one) => (
              <label class="field-label" key={one.key} title={one.title}>
                <span class="label-text">{one.label}</span>
                <input
                  class="text-input"
                  value={typeof draft.rest[one.key] === "string" ? draft.rest[one.key] as string : ""}
                  placeholder={one.placeholder}
                  onInput={(event) => {
                    const value = event.currentTarget.value.trim();
                    const rest = Object.fromEntries(Object.entries(draft.rest).filter(([key]) => key !== one.key));
                    update({ rest: value === "" ? rest : { ...rest, [one.key]: value } });
                  }}
                  data-testid={`rule-${one.key}`}
                />
              </label>
            ))}
          </div>
        </details>
        <datalist id="rule-fields">{fields.map((field) => <option key={field} value={field} />)}</datalist>
      </section>
      <section class="form-section">
        <h3 class="section-title">Labels and annotations</h3>
        <p class="hint">Labels go to receivers and silences match them; annotations are texts with <code>{"{{value}}"}</code>, <code>{"{{threshold}}"}</code>, <code>{"{{group.<field>}}"}</code> filled in.</p>
        <div class="field-label">Labels</div>
        <Pairs label="Label" keyPlaceholder="team" pairs={draft.labels} onChange={(labels) => { update({ labels }); }} testId="rule-labels" />
        <div class="field-label">Annotations</div>
        <Pairs label="Annotation" keyPlaceholder="summary" pairs={draft.annotations} onChange={(annotations) => { update({ annotations }); }} testId="rule-annotations" />
      </section>
      <section class="form-section">
        <h3 class="section-title">Notifications</h3>
        {draft.notify.length === 0 ? <p class="hint">None: the alert shows here and in the history only.</p> : null}
        {draft.notify.map((channel, position) => (
          <div class="form-row" key={position} data-testid="rule-channel">
            <select class="select tall" aria-label="Channel type" value={channel.type} onChange={(event) => { update({ notify: draft.notify.map((one, index) => (index === position ? { ...one, type: event.currentTarget.value } : one)) }); }}>
              {CHANNEL_TYPES.map((type) => <option key={type} value={type}>{type}</option>)}
            </select>
            {channel.type === "email" ? (
              <input class="text-input grow" aria-label="Recipients" placeholder="ops@example.com, oncall@example.com" value={channel.to} onInput={(event) => { update({ notify: draft.notify.map((one, index) => (index === position ? { ...one, to: event.currentTarget.value } : one)) }); }} />
            ) : (
              <input class="text-input grow mono" aria-label="URL" placeholder={channel.type === "alertmanager" ? "http://alertmanager:9093/api/v2/alerts" : "https://hooks.example.com/…"} value={channel.url} onInput={(event) => { update({ notify: draft.notify.map((one, index) => (index === position ? { ...one, url: event.currentTarget.value } : one)) }); }} />
            )}
            <button type="button" class="icon-button" aria-label="Remove the channel" title="Remove" onClick={() => { update({ notify: draft.notify.filter((_, index) => index !== position) }); }}><Icon name="close" /></button>
          </div>
        ))}
        <button type="button" class="link-button" onClick={() => { update({ notify: [...draft.notify, { type: "webhook", url: "", to: "" }] }); }}>+ add a channel</button>
      </section>
    </div>
  );
}

export function RuleEditorPage({ id }: { id: string | null }) {
  const isNew = id === null;
  const [loaded, setLoaded] = useState<Loaded>(isNew ? { phase: "ready", draft: newDraft() } : { phase: "loading" });
  const [ruleId, setRuleId] = useState(id ?? "");
  const [tab, setTab] = useState<"form" | "json">("form");
  const [jsonText, setJsonText] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [preview, setPreview] = useState<PreviewState>({ phase: "idle" });
  const [range, setRange] = useState("24h");
  const [fields, setFields] = useState<string[]>([]);
  const [previewed, setPreviewed] = useState<RuleBody | null>(null);

  useEffect(() => {
    if (isNew) return undefined;
    const controller = new AbortController();
    getRule(id, controller.signal).then(
      (rule) => { setLoaded({ phase: "ready", draft: draftOf(rule) }); },
      (error: unknown) => { if (!isAbort(error)) setLoaded({ phase: "error", error: asApiError(error) }); },
    );
    return () => { controller.abort(); };
  }, [id]);

  const index = loaded.phase === "ready" ? loaded.draft.index : "";
  useEffect(() => {
    if (index.trim() === "") return undefined;
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      fieldCaps(index, controller.signal).then(
        (caps) => { setFields(Object.keys(caps.fields).filter((name) => !name.startsWith("_")).sort()); },
        (error: unknown) => { if (!isAbort(error)) setFields([]); },
      );
    }, 300);
    return () => { window.clearTimeout(timer); controller.abort(); };
  }, [index]);

  if (loaded.phase === "loading") return <div class="rule-editor-page"><Loading label="Loading the rule…" /></div>;
  if (loaded.phase === "error") {
    return (
      <div class="rule-editor-page">
        <Failed error={loaded.error} title={loaded.error.status === 404 ? `There is no rule ${id}` : "The rule could not be read"} />
        <div><button type="button" class="button" onClick={() => { navigate(`${BASE}/alerts`); }}>Back to the rules</button></div>
      </div>
    );
  }
  const draft = loaded.draft;
  // An edit answers the last complaint: it is shown again only if the next save fails.
  const update = (change: Partial<RuleDraft>): void => { setLoaded({ phase: "ready", draft: { ...draft, ...change } }); setProblem(null); setSaveError(null); };
  const effectiveId = isNew ? (ruleId.trim() || idFromName(draft.name)) : id;

  /** The rule as the current tab says, or null with the problem shown. */
  const currentRule = (): RuleBody | null => {
    if (tab === "json") {
      try {
        const value: unknown = JSON.parse(jsonText);
        if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("a rule is a JSON object");
        return value as RuleBody;
      } catch (error) {
        setProblem(`The JSON does not parse: ${error instanceof Error ? error.message : String(error)}`);
        return null;
      }
    }
    const built = ruleOf(draft);
    if ("error" in built) {
      setProblem(built.error);
      return null;
    }
    return built.rule;
  };

  const switchTab = (next: "form" | "json"): void => {
    if (next === tab) return;
    const rule = currentRule();
    if (!rule) return;
    if (next === "json") setJsonText(JSON.stringify(rule, null, 2));
    else {
      try {
        setLoaded({ phase: "ready", draft: draftOf(rule) });
      } catch (error) {
        setProblem(`The JSON is not a rule: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
    }
    setProblem(null);
    setTab(next);
  };

  const runPreview = async (): Promise<void> => {
    const rule = currentRule();
    if (!rule) return;
    setPreview({ phase: "loading" });
    setPreviewed(rule);
    try {
      setPreview({ phase: "ready", preview: await previewRule(rule, range), range });
    } catch (error) {
      setPreview({ phase: "error", error: asApiError(error) });
    }
  };

  const save = async (): Promise<void> => {
    setSaveError(null);
    const rule = currentRule();
    if (!rule) return;
    if (!RULE_ID.test(effectiveId)) {
      setProblem("Id: 1 to 128 letters, digits, -, _ and ., starting with a letter or digit.");
      return;
    }
    setSaving(true);
    try {
      // A PUT replaces: a new rule must not take the id of one that exists.
      if (isNew && effectiveId in await listRules()) {
        setProblem(`Id: a rule with the id ${effectiveId} exists; choose another id (or edit that rule).`);
        return;
      }
      await putRule(effectiveId, rule);
      navigate(`${BASE}/alerts`);
    } catch (error) {
      setSaveError(asApiError(error));
    } finally {
      setSaving(false);
    }
  };

  return (
    <div class="rule-editor-page" data-panel="Rule editor" data-state={saveError || problem ? "error" : "ready"}>
      <div class="list-header">
        <a class="button ghost" href={`${BASE}/alerts`} onClick={(event) => { event.preventDefault(); navigate(`${BASE}/alerts`); }}><Icon name="chevronLeft" /><span>Rules</span></a>
        <h1>{isNew ? "New alert rule" : `Edit ${draft.name || id}`}</h1>
        <span class="spacer" />
        <button type="button" class="button" onClick={() => { navigate(`${BASE}/alerts`); }}>Cancel</button>
        <button type="button" class="button primary" disabled={saving} onClick={() => { void save(); }} data-testid="rule-save"><Icon name="save" /><span>{isNew ? "Create rule" : "Save rule"}</span></button>
      </div>
      {problem ? <p class="form-problem invalid-text" role="alert" data-testid="rule-problem">{problem}</p> : null}
      {saveError ? <div data-testid="rule-save-error"><ErrorMessage error={saveError} title="The server refused the rule" /></div> : null}
      <div class="rule-editor">
        <div class="panel rule-editor-form">
          <nav class="tabs" aria-label="Editor">
            <button type="button" class={tab === "form" ? "active" : ""} onClick={() => { switchTab("form"); }} data-tab="form">Form</button>
            <button type="button" class={tab === "json" ? "active" : ""} onClick={() => { switchTab("json"); }} data-tab="json">JSON</button>
          </nav>
          {tab === "form"
            ? <RuleForm draft={draft} update={update} fields={fields} isNew={isNew} id={ruleId} setId={setRuleId} />
            : (
              <div class="rule-json">
                <p class="hint">The rule as the API takes it (<code>PUT /_logfleet/alerts/rules/{effectiveId || "<id>"}</code>).</p>
                <textarea class="text-input mono code-area json-editor" spellcheck={false} value={jsonText} onInput={(event) => { setJsonText(event.currentTarget.value); setProblem(null); }} aria-label="Rule JSON" data-testid="rule-json" />
              </div>
            )}
        </div>
        <div class="panel rule-editor-preview" data-panel="Preview" data-state={preview.phase === "ready" ? "ready" : preview.phase}>
          <div class="panel-header">
            <span class="panel-title">Preview</span>
            <span class="spacer" />
            <label class="inline-label">over the last
              <select class="select" value={range} onChange={(event) => { setRange(event.currentTarget.value); }} data-testid="preview-range">
                {PREVIEW_RANGES.map((one) => <option key={one} value={one}>{one}</option>)}
              </select>
            </label>
            <button type="button" class="button primary" disabled={preview.phase === "loading"} onClick={() => { void runPreview(); }} data-testid="rule-preview"><Icon name="play" /><span>Preview</span></button>
          </div>
          <div class="panel-body preview-body">
            <RulePreview state={preview} rule={previewed} />
          </div>
        </div>
      </div>
    </div>
  );
}
