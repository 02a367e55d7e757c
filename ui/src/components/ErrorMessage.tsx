// A server error, readable: its type, its reason, and the deeper causes on demand.

import type { ApiError } from "../api/client";

export function ErrorMessage({ error, title }: { error: ApiError; title?: string }) {
  return (
    <div class="error-message" role="alert">
      <div class="error-title">
        {title ?? "The request failed"}
        {error.status > 0 ? <span class="error-status">HTTP {error.status}</span> : null}
      </div>
      <div class="error-reason">
        <code class="error-type">{error.type}</code> {error.reason}
      </div>
      {error.causes.length > 0 ? (
        <details class="error-causes">
          <summary>Caused by</summary>
          <ul>
            {error.causes.map((cause) => <li key={cause}>{cause}</li>)}
          </ul>
        </details>
      ) : null}
    </div>
  );
}
