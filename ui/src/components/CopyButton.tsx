// Copies text to the clipboard and says so; a refused clipboard is said too.

import { useEffect, useState } from "preact/hooks";
import { Icon } from "./Icon";

type Status = "idle" | "copied" | "failed";

export function CopyButton({ text, label = "Copy", compact = false }: { text: () => string; label?: string; compact?: boolean }) {
  const [status, setStatus] = useState<Status>("idle");
  useEffect(() => {
    if (status === "idle") return undefined;
    const timer = window.setTimeout(() => { setStatus("idle"); }, 1500);
    return () => { window.clearTimeout(timer); };
  }, [status]);
  const copy = (): void => {
    const clipboard = window.isSecureContext ? (navigator.clipboard as Clipboard | undefined) : undefined;
    if (!clipboard) {
      setStatus("failed");
      return;
    }
    clipboard.writeText(text()).then(() => { setStatus("copied"); }, () => { setStatus("failed"); });
  };
  const shown = status === "copied" ? "Copied" : status === "failed" ? "Copy refused" : label;
  return (
    <button type="button" class={compact ? "icon-button" : "button"} onClick={copy} title={status === "failed" ? "The browser refused the clipboard (it needs HTTPS or localhost)" : label} aria-label={label}>
      <Icon name="copy" />
      {compact ? null : <span>{shown}</span>}
      {compact && status !== "idle" ? <span class="copy-status">{shown}</span> : null}
    </button>
  );
}
