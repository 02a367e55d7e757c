// Export every matching event (/_logfleet/export) as CSV or NDJSON with the table's columns,
// streamed with a progress bar against X-Logfleet-Total, cancellable, then saved as a file.

import { signal } from "@preact/signals";
import { useState } from "preact/hooks";
import { asApiError, isAbort, type ApiError } from "../api/client";
import { exportEvents, saveBlob, type ExportFormat } from "../api/logfleet";
import { ErrorMessage } from "../components/ErrorMessage";
import { Icon } from "../components/Icon";
import { Popover } from "../components/Popover";
import { formatCount } from "../lib/format";
import { columns } from "./columns";
import { buildSort } from "./query";
import { hasTimeField, results, runQuery } from "./search";
import { SOURCE_COLUMN, view } from "./state";

const DEFAULT_LIMIT = 1_000_000;

type Progress =
  | { phase: "idle" }
  | { phase: "running"; rows: number; total: number | null }
  | { phase: "done"; rows: number; fileName: string }
  | { phase: "failed"; error: ApiError };

// Module state, so an export goes on when its panel closes.
const exportProgress = signal<Progress>({ phase: "idle" });
let exportController: AbortController | null = null;

function setProgress(progress: Progress): void {
  exportProgress.value = progress;
}

function ExportForm() {
  const [format, setFormat] = useState<ExportFormat>("csv");
  const [limit, setLimit] = useState(DEFAULT_LIMIT);
  const progress = exportProgress.value;
  const exported = columns.value.filter((column) => column !== SOURCE_COLUMN);
  const start = (): void => {
    const current = new AbortController();
    exportController = current;
    setProgress({ phase: "running", rows: 0, total: null });
    exportEvents({
      index: view.peek().index,
      query: runQuery.peek(),
      sort: buildSort(view.peek().sort, hasTimeField.peek()),
      columns: exported,
      format,
      limit,
    }, current.signal, (rows, total) => { setProgress({ phase: "running", rows, total }); }).then((result) => {
      saveBlob(result.blob, result.fileName);
      setProgress({ phase: "done", rows: result.rows, fileName: result.fileName });
    }, (error: unknown) => {
      if (isAbort(error)) setProgress({ phase: "idle" });
      else setProgress({ phase: "failed", error: asApiError(error) });
    });
  };
  const matching = results.value.total;
  return (
    <div class="export-form" data-panel="Export" data-state={progress.phase === "failed" ? "error" : progress.phase === "running" ? "loading" : "ready"}>
      <p class="hint">
        {formatCount(Math.min(matching, limit))} matching events with the columns{" "}
        {exported.length > 0 ? exported.map((column) => <code key={column}>{column}</code>) : <em>(every field of the document)</em>}.
      </p>
      <div class="segmented" role="radiogroup" aria-label="Format">
        {(["csv", "ndjson"] as const).map((candidate) => (
          <button type="button" key={candidate} role="radio" aria-checked={format === candidate} class={format === candidate ? "active" : ""} onClick={() => { setFormat(candidate); }} disabled={progress.phase === "running"}>
            {candidate.toUpperCase()}
          </button>
        ))}
      </div>
      <label class="field-label">
        At most
        <input class="text-input" type="number" min={1} max={10_000_000} value={limit} onInput={(event) => { setLimit(Math.max(1, Number(event.currentTarget.value) || 1)); }} disabled={progress.phase === "running"} />
      </label>
      {progress.phase === "running" ? (
        <div class="export-progress">
          <progress max={progress.total ?? undefined} value={progress.total === null ? undefined : progress.rows} />
          <span>{formatCount(progress.rows)}{progress.total === null ? "" : ` of ${formatCount(progress.total)}`} rows</span>
          <button type="button" class="button" onClick={() => { exportController?.abort(); }}>Cancel</button>
        </div>
      ) : (
        <div class="form-actions">
          <button type="button" class="button primary" onClick={start} disabled={matching === 0}>
            <Icon name="download" /> Export {format.toUpperCase()}
          </button>
        </div>
      )}
      {progress.phase === "done" ? <p class="hint" data-testid="export-done">Saved {formatCount(progress.rows)} rows as {progress.fileName}.</p> : null}
      {progress.phase === "failed" ? <ErrorMessage error={progress.error} title={progress.error.status === 404 ? "Export is not available on this server" : "The export failed"} /> : null}
    </div>
  );
}

export function ExportDialog() {
  const progress = exportProgress.value;
  const running = progress.phase === "running" ? progress : null;
  return (
    <Popover title="Export" align="right" panelClass="export-panel" testId="export" label={<><Icon name="download" /><span>{running ? `Exporting ${formatCount(running.rows)}…` : "Export"}</span></>}>
      {() => <ExportForm />}
    </Popover>
  );
}
