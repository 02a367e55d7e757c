// What a panel shows when it has nothing else to show: loading, empty, or an error.

import type { ComponentChildren } from "preact";
import type { ApiError } from "../api/client";
import { ErrorMessage } from "./ErrorMessage";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div class="state-message state-loading" aria-busy="true">
      <span class="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="state-message state-empty">
      <div class="state-title">{title}</div>
      {children}
    </div>
  );
}

export function Failed({ error, title }: { error: ApiError; title?: string }) {
  return (
    <div class="state-message state-error">
      <ErrorMessage error={error} {...(title ? { title } : {})} />
    </div>
  );
}
