// Inspect a panel: the search it sent (as `POST /{index}/_search` and as curl) and the
// server's answer, as JSON to copy into Elasticsearch, Kibana's console or a script.

import { useState } from "preact/hooks";
import { CopyButton } from "../components/CopyButton";
import { Modal } from "../components/Modal";
import type { PanelResult } from "./data";
import type { Panel } from "./model";

type Tab = "request" | "response";

export function InspectDialog({ panel, result, onClose }: { panel: Panel; result: PanelResult | undefined; onClose: () => void }) {
  const [tab, setTab] = useState<Tab>("request");
  const request = result?.request ?? null;
  const requestText = request ? JSON.stringify(request.body, null, 2) : "";
  const path = request ? `/${request.index}/_search` : "";
  const responseText = result?.response ? JSON.stringify(result.response, null, 2) : result?.error ? JSON.stringify({ error: { type: result.error.type, reason: result.error.reason }, status: result.error.status }, null, 2) : "";
  const curl = request ? `curl -s -H 'content-type: application/json' '${window.location.origin}${path.replace(/'/g, "%27")}' -d '${JSON.stringify(request.body).replace(/'/g, "'\\''")}'` : "";
  return (
    <Modal title={`Inspect: ${panel.title}`} onClose={onClose} wide testId="inspect-dialog">
      <div class="segmented" role="tablist" aria-label="Inspect">
        <button type="button" role="tab" aria-selected={tab === "request"} class={tab === "request" ? "active" : ""} onClick={() => { setTab("request"); }}>Request</button>
        <button type="button" role="tab" aria-selected={tab === "response"} class={tab === "response" ? "active" : ""} onClick={() => { setTab("response"); }}>Response</button>
      </div>
      {tab === "request" ? (
        <div class="inspect-section" data-testid="inspect-request">
          <div class="inspect-bar">
            <code class="inspect-path">POST {path}</code>
            <span class="spacer" />
            <CopyButton text={() => requestText} label="Copy request" />
            <CopyButton text={() => curl} label="Copy as curl" />
          </div>
          <p class="hint">Every panel of the dashboard went to the server in one <code>_msearch</code>; this is this panel's search, as Elasticsearch takes it.</p>
          <pre class="json-block">{requestText}</pre>
        </div>
      ) : (
        <div class="inspect-section" data-testid="inspect-response">
          <div class="inspect-bar">
            <span class="hint">{result?.took !== null && result?.took !== undefined ? `The server took ${result.took} ms.` : ""}</span>
            <span class="spacer" />
            <CopyButton text={() => responseText} label="Copy response" />
          </div>
          <pre class="json-block">{responseText || "No answer yet."}</pre>
        </div>
      )}
    </Modal>
  );
}
