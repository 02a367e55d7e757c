// The index pattern: data streams, indexes and aliases from `_resolve/index/*`, or any
// pattern typed in. The choice is remembered in this browser.

import { useEffect, useState } from "preact/hooks";
import { isAbort } from "../api/client";
import { resolveIndex } from "../api/elasticsearch";
import { Icon } from "../components/Icon";
import { Popover } from "../components/Popover";
import { updateView, view } from "./state";

interface Target {
  name: string;
  kind: "data stream" | "index" | "alias" | "pattern";
}

function TargetList({ close }: { close: () => void }) {
  const [typed, setTyped] = useState(view.value.index);
  const [targets, setTargets] = useState<Target[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    resolveIndex("*", controller.signal).then((resolved) => {
      const streams = resolved.data_streams.map((stream) => ({ name: stream.name, kind: "data stream" as const }));
      const prefixes = new Set(resolved.data_streams.map((stream) => stream.name.replace(/-[^-]*-[^-]*$/, "-*")));
      const patterns = [...prefixes].filter((pattern) => pattern.endsWith("-*")).map((name) => ({ name, kind: "pattern" as const }));
      const indexes = resolved.indices
        .filter((index) => !index.data_stream && !(index.attributes ?? []).includes("hidden"))
        .map((index) => ({ name: index.name, kind: "index" as const }));
      const aliases = resolved.aliases.map((alias) => ({ name: alias.name, kind: "alias" as const }));
      setTargets([...patterns, ...streams, ...aliases, ...indexes]);
    }, (error: unknown) => {
      if (!isAbort(error)) setFailed(error instanceof Error ? error.message : String(error));
    });
    return () => { controller.abort(); };
  }, []);
  const apply = (name: string): void => {
    const trimmed = name.trim();
    if (!trimmed) return;
    updateView({ index: trimmed, columns: null, doc: null });
    close();
  };
  const filter = typed.trim().toLowerCase();
  const shown = (targets ?? []).filter((target) => target.name.toLowerCase().includes(filter.replace(/\*/g, "")));
  return (
    <div class="index-list">
      <form onSubmit={(event) => { event.preventDefault(); apply(typed); }}>
        <input
          class="text-input"
          value={typed}
          aria-label="Index pattern"
          placeholder="logs-*, an index, an alias, a comma list"
          spellcheck={false}
          autofocus
          onInput={(event) => { setTyped(event.currentTarget.value); }}
        />
      </form>
      <p class="hint">Enter applies any pattern as typed.</p>
      {failed ? <p class="hint invalid-text">Could not list indexes: {failed}</p> : null}
      {targets === null && !failed ? <p class="hint">Loading indexes…</p> : null}
      <ul class="menu-list">
        {shown.map((target) => (
          <li key={`${target.kind}:${target.name}`}>
            <button type="button" class={`menu-item ${target.name === view.value.index ? "active" : ""}`} onClick={() => { apply(target.name); }}>
              <span class="menu-text">{target.name}</span>
              <span class="menu-detail">{target.kind}</span>
            </button>
          </li>
        ))}
        {targets !== null && shown.length === 0 ? <li class="hint">No index matches; Enter uses the pattern anyway.</li> : null}
      </ul>
    </div>
  );
}

export function IndexPicker() {
  return (
    <Popover
      title="Index pattern"
      buttonClass="button index-button"
      panelClass="index-panel"
      testId="index-picker"
      label={
        <>
          <span class="index-label">{view.value.index}</span>
          <Icon name="chevronDown" />
        </>
      }
    >
      {(close) => <TargetList close={close} />}
    </Popover>
  );
}
