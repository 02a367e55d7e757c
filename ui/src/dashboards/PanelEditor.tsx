// The panel editor: index pattern, Lucene or Query DSL query, metrics, bucketing field, chart
// type, unit, thresholds and the type's options, with a live preview of the panel as it would
// draw (its own search, run as the form changes).

import { useEffect, useMemo, useState } from "preact/hooks";
import { isAbort } from "../api/client";
import { listRules, type StoredRule } from "../api/alerts";
import { fieldCaps } from "../api/elasticsearch";
import { Modal } from "../components/Modal";
import { zone } from "../lib/zone";
import { runPanel, type PanelResult } from "./data";
import { FRAME } from "./layout";
import { METRIC_TYPES, PANEL_TYPES, parsePanel, panelJson, UNITS, type Metric, type MetricType, type Panel, type PanelType, type Threshold, type Unit } from "./model";
import { PanelView } from "./PanelView";
import type { QueryContext } from "./requests";

function parseJsonObject(text: string): { value: Record<string, unknown> | null; error: string | null } {
  if (text.trim() === "") return { value: {}, error: null };
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return { value: null, error: "must be a JSON object" };
    return { value: value as Record<string, unknown>, error: null };
  } catch (error) {
    return { value: null, error: error instanceof Error ? error.message : String(error) };
  }
}

export function PanelEditor({ panel, context, onApply, onCancel }: {
  panel: Panel;
  context: QueryContext;
  onApply: (panel: Panel) => void;
  onCancel: () => void;
}) {
  const [draft, setDraft] = useState<Panel>(panel);
  const [dslText, setDslText] = useState(() => JSON.stringify(panel.query.language === "dsl" ? panel.query.dsl : { match_all: {} }, null, 2));
  const [optionsText, setOptionsText] = useState(() => JSON.stringify(panel.options, null, 2));
  const [fields, setFields] = useState<string[]>([]);
  const [preview, setPreview] = useState<PanelResult | null>(null);
  const [rules, setRules] = useState<[string, StoredRule][]>([]);
  const dsl = parseJsonObject(dslText);
  const options = parseJsonObject(optionsText);
  const candidate = useMemo<Panel | null>(() => {
    if (draft.query.language === "dsl" && !dsl.value) return null;
    if (!options.value) return null;
    // Through the parser, so the preview shows exactly what would be saved.
    return parsePanel(panelJson({ ...draft, query: draft.query.language === "dsl" ? { language: "dsl", dsl: dsl.value ?? {} } : draft.query, options: options.value }), 0);
  }, [draft, dslText, optionsText]);

  useEffect(() => {
    const controller = new AbortController();
    listRules(controller.signal).then(
      (all) => { setRules(Object.entries(all).sort(([, a], [, b]) => a.name.localeCompare(b.name))); },
      (error: unknown) => { if (!isAbort(error)) setRules([]); },
    );
    return () => { controller.abort(); };
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    fieldCaps(draft.index, controller.signal).then(
      (caps) => { setFields(Object.keys(caps.fields).filter((name) => !name.startsWith("_")).sort()); },
      (error: unknown) => { if (!isAbort(error)) setFields([]); },
    );
    return () => { controller.abort(); };
  }, [draft.index]);

  useEffect(() => {
    if (!candidate) return undefined;
    const controller = new AbortController();
    const timer = window.setTimeout(() => {
      setPreview(null);
      runPanel(candidate, context, controller.signal).then(setPreview, (error: unknown) => { if (!isAbort(error)) setPreview(null); });
    }, 350);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [JSON.stringify(candidate)]);

  const update = (change: Partial<Panel>): void => { setDraft({ ...draft, ...change }); };
  const updateMetric = (position: number, change: Partial<Metric>): void => {
    update({ metrics: draft.metrics.map((metric, index) => (index === position ? { ...metric, ...change } : metric)) });
  };
  const updateThreshold = (position: number, change: Partial<Threshold>): void => {
    update({ thresholds: draft.thresholds.map((threshold, index) => (index === position ? { ...threshold, ...change } : threshold)) });
  };
  const split = draft.split[0];

  return (
    <Modal title={panel.title === "New panel" ? "New panel" : `Edit: ${panel.title}`} onClose={onCancel} wide testId="panel-editor">
      <datalist id="panel-fields">{fields.map((field) => <option key={field} value={field} />)}</datalist>
      <div class="panel-editor">
        <form
          class="panel-form"
          onSubmit={(event) => {
            event.preventDefault();
            if (candidate) onApply(candidate);
          }}
        >
          <label class="field-label">Title
            <input class="text-input" value={draft.title} onInput={(event) => { update({ title: event.currentTarget.value }); }} data-testid="editor-title" />
          </label>
          <div class="form-row">
            <label class="field-label">Chart type
              <select class="select" value={draft.type} onChange={(event) => { update({ type: event.currentTarget.value as PanelType }); }} data-testid="editor-type">
                {PANEL_TYPES.map((one) => <option key={one.type} value={one.type}>{one.label}</option>)}
              </select>
            </label>
            <label class="field-label">Index pattern
              <input class="text-input" value={draft.index} onInput={(event) => { update({ index: event.currentTarget.value }); }} spellcheck={false} />
            </label>
          </div>
          <div class="field-label">Query
            <div class="segmented" role="radiogroup" aria-label="Query language">
              {(["lucene", "dsl"] as const).map((language) => (
                <button
                  type="button"
                  key={language}
                  role="radio"
                  aria-checked={draft.query.language === language}
                  class={draft.query.language === language ? "active" : ""}
                  onClick={() => { update({ query: language === "lucene" ? { language, lucene: draft.query.language === "lucene" ? draft.query.lucene : "" } : { language, dsl: dsl.value ?? { match_all: {} } } }); }}
                >
                  {language === "lucene" ? "Lucene" : "Query DSL"}
                </button>
              ))}
            </div>
          </div>
          {draft.query.language === "lucene" ? (
            <input class="text-input mono" value={draft.query.lucene} placeholder="e.g. log_category:api_request AND status_code:>=500" onInput={(event) => { update({ query: { language: "lucene", lucene: event.currentTarget.value } }); }} spellcheck={false} data-testid="editor-lucene" />
          ) : (
            <>
              <textarea class="text-input mono code-area" rows={6} value={dslText} onInput={(event) => { setDslText(event.currentTarget.value); }} spellcheck={false} aria-invalid={dsl.error !== null} data-testid="editor-dsl" />
              {dsl.error ? <p class="hint invalid-text">Query DSL: {dsl.error}</p> : null}
            </>
          )}
          <div class="field-label">Metrics</div>
          {draft.metrics.map((metric, position) => {
            const needsField = METRIC_TYPES.find((one) => one.type === metric.type)?.needsField ?? false;
            return (
              <div class="form-row metric-row" key={position}>
                <select class="select" value={metric.type} aria-label="Metric" onChange={(event) => { updateMetric(position, { type: event.currentTarget.value as MetricType }); }} data-testid="editor-metric">
                  {METRIC_TYPES.map((one) => <option key={one.type} value={one.type}>{one.label}</option>)}
                </select>
                {needsField ? <input class="text-input" list="panel-fields" placeholder="field" aria-label="Metric field" value={metric.field ?? ""} onInput={(event) => { updateMetric(position, { field: event.currentTarget.value }); }} data-testid="editor-metric-field" /> : null}
                {metric.type === "percentile" ? <input class="text-input narrow" type="number" min={0} max={100} step="any" aria-label="Percent" value={metric.percent ?? 95} onInput={(event) => { updateMetric(position, { percent: Number(event.currentTarget.value) }); }} /> : null}
                {metric.type === "ratio" ? (
                  <input
                    class="text-input mono"
                    aria-label="Share of events matching (Query DSL)"
                    title="Share of events matching this Query DSL clause"
                    value={JSON.stringify(metric.filter ?? { match_all: {} })}
                    onChange={(event) => {
                      const parsed = parseJsonObject(event.currentTarget.value);
                      if (parsed.value) updateMetric(position, { filter: parsed.value });
                    }}
                    spellcheck={false}
                  />
                ) : null}
                <button type="button" class="link-button" disabled={draft.metrics.length === 1} onClick={() => { update({ metrics: draft.metrics.filter((_, index) => index !== position) }); }}>remove</button>
              </div>
            );
          })}
          <button type="button" class="link-button" onClick={() => { update({ metrics: [...draft.metrics, { type: "count" }] }); }}>+ add a metric</button>
          <div class="form-row">
            <label class="field-label">Bucketing field (terms)
              <input class="text-input" list="panel-fields" placeholder="none" value={split?.field ?? ""} onInput={(event) => {
                const field = event.currentTarget.value.trim();
                update({ split: field ? [{ field, size: split?.size ?? 10 }, ...draft.split.slice(1)] : draft.split.slice(1) });
              }} data-testid="editor-split" />
            </label>
            <label class="field-label">Top
              <input class="text-input narrow" type="number" min={1} max={500} value={split?.size ?? 10} disabled={!split} onInput={(event) => { if (split) update({ split: [{ ...split, size: Math.max(1, Number(event.currentTarget.value) || 10) }, ...draft.split.slice(1)] }); }} />
            </label>
            <label class="field-label">Unit
              <select class="select" value={draft.unit} onChange={(event) => { update({ unit: event.currentTarget.value as Unit }); }}>
                {UNITS.map((one) => <option key={one.unit} value={one.unit}>{one.label}</option>)}
              </select>
            </label>
          </div>
          <div class="field-label">Alert thresholds</div>
          {draft.thresholds.map((threshold, position) => (
            <div class="form-row" key={position}>
              <input class="text-input narrow" type="number" step="any" aria-label="Threshold value" value={threshold.value ?? ""} onInput={(event) => { updateThreshold(position, { value: Number(event.currentTarget.value) }); }} />
              <select class="select" value={threshold.severity} aria-label="Severity" onChange={(event) => { updateThreshold(position, { severity: event.currentTarget.value as Threshold["severity"] }); }}>
                <option value="warning">Warning</option>
                <option value="critical">Critical</option>
                <option value="ok">OK</option>
              </select>
              <input class="text-input" placeholder="label" value={threshold.label ?? ""} onInput={(event) => { updateThreshold(position, { label: event.currentTarget.value }); }} />
              <button type="button" class="link-button" onClick={() => { update({ thresholds: draft.thresholds.filter((_, index) => index !== position) }); }}>remove</button>
            </div>
          ))}
          <button type="button" class="link-button" onClick={() => { update({ thresholds: [...draft.thresholds, { value: 0, severity: "warning" }] }); }}>+ add a threshold</button>
          <label class="field-label">Alert rule <span class="muted">— a time chart draws its threshold (when it shows the rule's measure) and shades when it fired</span>
            <select class="select tall" value={draft.alert ?? ""} onChange={(event) => { const alert = event.currentTarget.value; const next = { ...draft }; delete next.alert; setDraft(alert ? { ...next, alert } : next); }} data-testid="panel-alert">
              <option value="">(none)</option>
              {draft.alert && !rules.some(([id]) => id === draft.alert) ? <option value={draft.alert}>{draft.alert} (not found)</option> : null}
              {rules.map(([id, rule]) => <option key={id} value={id}>{rule.name} ({id})</option>)}
            </select>
          </label>
          <details class="editor-options">
            <summary>Options of this chart type (JSON)</summary>
            <textarea class="text-input mono code-area" rows={5} value={optionsText} onInput={(event) => { setOptionsText(event.currentTarget.value); }} spellcheck={false} aria-invalid={options.error !== null} />
            {options.error ? <p class="hint invalid-text">Options: {options.error}</p> : null}
            <p class="hint">See “Dashboards as data” in ui/README.md: e.g. <code>columns</code> and <code>sort</code> for an events table, <code>interval</code> for a distribution, <code>ignore_variables</code>, <code>empty</code>.</p>
          </details>
          <div class="form-actions">
            <button type="button" class="button" onClick={onCancel}>Cancel</button>
            <button type="submit" class="button primary" disabled={!candidate} data-testid="editor-apply">Apply</button>
          </div>
        </form>
        <div class="panel-preview">
          <div class="section-title">Preview</div>
          {candidate ? (
            <section class={`dash-panel panel-${candidate.type}`} data-panel="Preview" data-state={preview?.state ?? "loading"}>
              <PanelView
                panel={candidate}
                result={preview ?? undefined}
                height={340 - FRAME}
                zone={zone.value}
                markers={[]}
                actions={{ onFilter: () => undefined, onInspect: () => undefined, explorerHref: "#", onOpenExplorer: (event) => { event.preventDefault(); } }}
                edit={null}
              />
            </section>
          ) : <p class="hint invalid-text">Fix the JSON to see the preview.</p>}
        </div>
      </div>
    </Modal>
  );
}
