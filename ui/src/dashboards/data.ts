// Runs a dashboard: every panel's search, the variables' values and the annotations go to the
// server in one `_msearch` (each distinct search once); the ECharts code and the world's
// geometry load alongside when a panel needs them, so a panel is "ready" only once it can draw.

import { ApiError, asApiError, errorFromBody, isAbort } from "../api/client";
import { multiSearch, type MultiSearchItem, type SearchResponse } from "../api/elasticsearch";
import { loadECharts, loadWorldMap } from "../charts/echarts";
import type { Dashboard, Panel } from "./model";
import { listRules, type StoredRule } from "../api/alerts";
import { readAlertRegions, type PanelAlert } from "./alerts";
import { alertHistoryRequest, annotationRequest, batchRequests, panelRequest, variablesRequest, type QueryContext } from "./requests";
import { isEmpty, readAnnotations, readPanel, readVariables, type AnnotationMark, type PanelData } from "./results";

export type PanelState = "loading" | "ready" | "empty" | "error";

export interface PanelResult {
  state: PanelState;
  request: MultiSearchItem;
  data: PanelData | null;
  response: SearchResponse | null;
  error: ApiError | null;
  /** Milliseconds the server took for this search. */
  took: number | null;
}

export interface DashboardResults {
  panels: Record<string, PanelResult>;
  variables: Record<string, string[]>;
  annotations: AnnotationMark[];
  /** The alert rules panels link to, by id. */
  alerts: Record<string, PanelAlert>;
}

/** The rules, or none: a dashboard draws without its alerts when they cannot be read. */
function rulesOrNone(linked: string[], signal: AbortSignal): Promise<Record<string, StoredRule>> {
  if (linked.length === 0) return Promise.resolve({});
  return listRules(signal).catch((error: unknown) => {
    if (isAbort(error)) throw error;
    return {};
  });
}

const ECHARTS_TYPES = new Set<Panel["type"]>(["heatmap", "graph", "pie", "map"]);

/** Loads what the panels' charts need beyond the page's own code. */
export async function loadChartCode(panels: Panel[]): Promise<void> {
  const loads: Promise<unknown>[] = [];
  if (panels.some((panel) => ECHARTS_TYPES.has(panel.type))) loads.push(loadECharts());
  if (panels.some((panel) => panel.type === "map")) loads.push(loadWorldMap());
  await Promise.all(loads);
}

function resultOf(panel: Panel, request: MultiSearchItem, answer: Awaited<ReturnType<typeof multiSearch>>[number] | undefined, context: QueryContext): PanelResult {
  if (!answer) return { state: "error", request, data: null, response: null, error: new ApiError(0, "invalid_response", "no answer for this panel"), took: null };
  if (!answer.ok) return { state: "error", request, data: null, response: null, error: errorFromBody(answer.status, { error: answer.error }), took: null };
  try {
    const data = readPanel(panel, answer.response, context.bounds, context.interval.milliseconds, context.zone);
    return { state: isEmpty(data) ? "empty" : "ready", request, data, response: answer.response, error: null, took: answer.response.took ?? null };
  } catch (error) {
    return { state: "error", request, data: null, response: answer.response, error: new ApiError(0, "unreadable_response", error instanceof Error ? error.message : String(error)), took: null };
  }
}

/** Every panel's result, with the variables' values and the annotations, in one round trip. */
export async function runDashboard(dashboard: Dashboard, panels: Panel[], context: QueryContext, signal: AbortSignal): Promise<DashboardResults> {
  const panelRequests = panels.map((panel) => panelRequest(panel, context));
  const variables = variablesRequest(dashboard.variables, context);
  const annotations = dashboard.annotations.map((annotation) => annotationRequest(annotation, context));
  // The alerts of the rules time charts link to go in the same round trip.
  const linked = [...new Set(panels.filter((panel) => panel.type === "timeseries" && panel.alert).map((panel) => panel.alert ?? ""))];
  const history = linked.length > 0 ? alertHistoryRequest(linked, context) : null;
  const all = [...panelRequests, ...(variables ? [variables] : []), ...annotations, ...(history ? [history] : [])];
  const batch = batchRequests(all);
  let answers: Awaited<ReturnType<typeof multiSearch>>;
  let rules: Record<string, StoredRule>;
  try {
    [answers, rules] = await Promise.all([multiSearch(batch.items, signal), rulesOrNone(linked, signal), loadChartCode(panels)]);
  } catch (error) {
    if (isAbort(error)) throw error;
    const failure = asApiError(error);
    return {
      panels: Object.fromEntries(panels.map((panel, position) => [panel.id, { state: "error", request: panelRequests[position] ?? { index: panel.index, body: {} }, data: null, response: null, error: failure, took: null }])),
      variables: {},
      annotations: [],
      alerts: {},
    };
  }
  const answerFor = (position: number): (typeof answers)[number] | undefined => answers[batch.slots[position] ?? -1];
  const results: Record<string, PanelResult> = {};
  panels.forEach((panel, position) => {
    results[panel.id] = resultOf(panel, panelRequests[position] ?? { index: panel.index, body: {} }, answerFor(position), context);
  });
  const variableAnswer = variables ? answerFor(panelRequests.length) : undefined;
  const marks: AnnotationMark[] = [];
  dashboard.annotations.forEach((annotation, position) => {
    const answer = answerFor(panelRequests.length + (variables ? 1 : 0) + position);
    if (answer?.ok) marks.push(...readAnnotations(answer.response, annotation.textField));
  });
  // A history that cannot be read (no alert has changed yet: the stream does not exist) shades nothing.
  const historyAnswer = history ? answerFor(all.length - 1) : undefined;
  const regions = historyAnswer?.ok ? readAlertRegions(historyAnswer.response, rules) : {};
  const alerts: Record<string, PanelAlert> = {};
  for (const id of linked) alerts[id] = { rule: rules[id] ?? null, regions: regions[id] ?? [] };
  return {
    panels: results,
    variables: variableAnswer?.ok ? readVariables(variableAnswer.response) : {},
    annotations: marks.sort((a, b) => a.time - b.time),
    alerts,
  };
}

/** One panel on its own (the editor's live preview). */
export async function runPanel(panel: Panel, context: QueryContext, signal: AbortSignal): Promise<PanelResult> {
  const request = panelRequest(panel, context);
  try {
    const [answers] = await Promise.all([multiSearch([request], signal), loadChartCode([panel])]);
    return resultOf(panel, request, answers[0], context);
  } catch (error) {
    if (isAbort(error)) throw error;
    return { state: "error", request, data: null, response: null, error: asApiError(error), took: null };
  }
}
