// The Lucene query bar: autocompletion of field names (from _field_caps) and of values (the
// field's top terms over the current range), recent queries on the arrow keys, and the
// server's error next to the bar, pointing at the position when the reason gives one. The
// typed query is never lost: a failed run leaves it as it was.

import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { isAbort } from "../api/client";
import { search } from "../api/elasticsearch";
import { Icon } from "../components/Icon";
import { typeBadge } from "../lib/fields";
import { showControls, truncate } from "../lib/format";
import { completionAt, escapeField, quoteValue, type CompletionContext } from "../lib/lucene";
import { buildQuery } from "./query";
import { bounds, fieldsResult, hasTimeField, results } from "./search";
import { recentQueries, rememberQuery, updateView, view } from "./state";

interface Suggestion {
  kind: "field" | "value" | "history";
  text: string;
  detail: string;
}

const MAX_SUGGESTIONS = 12;
const valueCache = new Map<string, string[]>();

async function topValues(field: string, signal: AbortSignal): Promise<string[]> {
  const range = bounds.peek();
  const key = `${view.peek().index}\u0000${field}\u0000${range?.from ?? ""}\u0000${range?.to ?? ""}`;
  const cached = valueCache.get(key);
  if (cached) return cached;
  const response = await search(view.peek().index, {
    size: 0,
    query: buildQuery("", hasTimeField.peek() ? range : null),
    aggs: { values: { terms: { field, size: 50 } } },
  }, signal);
  const buckets = (response.aggregations?.values as { buckets?: { key: unknown; key_as_string?: string }[] } | undefined)?.buckets ?? [];
  const values = buckets.map((bucket) => bucket.key_as_string ?? String(bucket.key));
  valueCache.set(key, values);
  return values;
}

export function QueryBar({ inputRef }: { inputRef: { current: HTMLInputElement | null } }) {
  const committed = view.value.query;
  const [draft, setDraft] = useState(committed);
  const [suggestions, setSuggestions] = useState<Suggestion[]>([]);
  const [active, setActive] = useState(-1);
  const [context, setContext] = useState<CompletionContext | null>(null);
  /** Where the arrows are in the recent queries: -1 is the draft they started from. */
  const historyPosition = useRef(-1);
  const historyStart = useRef("");
  const valueRequest = useRef<AbortController | null>(null);

  // A query set from elsewhere (a filter button, the history, a link) replaces the draft.
  useEffect(() => {
    setDraft(committed);
    historyPosition.current = -1;
  }, [committed]);

  const fields = fieldsResult.value.fields;
  const close = (): void => {
    setSuggestions([]);
    setActive(-1);
    valueRequest.current?.abort();
  };

  const suggest = (text: string, caret: number): void => {
    valueRequest.current?.abort();
    if (text.trim() === "") {
      setContext(null);
      setSuggestions(recentQueries.value.slice(0, MAX_SUGGESTIONS).map((query) => ({ kind: "history", text: query, detail: "recent" })));
      setActive(-1);
      return;
    }
    const at = completionAt(text, caret);
    setContext(at);
    if (!at) {
      close();
      return;
    }
    if (at.kind === "field") {
      const prefix = at.prefix.toLowerCase();
      const matching = [...fields.values()]
        .filter((field) => field.name.toLowerCase().includes(prefix))
        .sort((a, b) => Number(!a.name.toLowerCase().startsWith(prefix)) - Number(!b.name.toLowerCase().startsWith(prefix)))
        .slice(0, MAX_SUGGESTIONS)
        .map((field) => ({ kind: "field" as const, text: field.name, detail: field.type }));
      setSuggestions(prefix === "" && text.trim() !== "" ? [] : matching);
      setActive(-1);
      return;
    }
    const field = fields.get(at.field);
    if (!field?.aggregatable) {
      close();
      return;
    }
    // Until this field's values arrive, nothing shown may be chosen: Enter would put a field
    // name, or another field's value, where this value goes.
    setActive(-1);
    if (context?.kind !== "value" || context.field !== at.field) setSuggestions([]);
    const controller = new AbortController();
    valueRequest.current = controller;
    topValues(at.field, controller.signal).then((values) => {
      if (controller.signal.aborted) return;
      const prefix = at.prefix.toLowerCase();
      setSuggestions(values
        .filter((value) => value.toLowerCase().includes(prefix))
        .slice(0, MAX_SUGGESTIONS)
        .map((value) => ({ kind: "value", text: value, detail: field.type })));
      setActive(-1);
    }, (error: unknown) => {
      // No suggestions is the only consequence of a failed look-up.
      if (!isAbort(error)) setSuggestions([]);
    });
  };

  const submit = (text: string): void => {
    close();
    historyPosition.current = -1;
    rememberQuery(text);
    if (text === view.peek().query) updateView({});
    else updateView({ query: text });
  };

  const accept = (suggestion: Suggestion): void => {
    const input = inputRef.current;
    if (suggestion.kind === "history" || !context) {
      setDraft(suggestion.text);
      close();
      submit(suggestion.text);
      return;
    }
    const insert = suggestion.kind === "field" ? `${escapeField(suggestion.text)}:` : `${quoteValue(suggestion.text)} `;
    const next = draft.slice(0, context.start) + insert + draft.slice(context.end);
    const caret = context.start + insert.length;
    setDraft(next);
    window.requestAnimationFrame(() => {
      input?.setSelectionRange(caret, caret);
      input?.focus();
    });
    if (suggestion.kind === "field") suggest(next, caret);
    else close();
  };

  const onKeyDown = (event: KeyboardEvent): void => {
    const open = suggestions.length > 0;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const down = event.key === "ArrowDown";
      if (open) {
        setActive((current) => (down ? Math.min(suggestions.length - 1, current + 1) : Math.max(-1, current - 1)));
        return;
      }
      // Without suggestions, the arrows walk the recent queries, leaving out the one on screen
      // (the query just run is the newest): Up always shows an older query, Down comes back
      // to what was there.
      if (historyPosition.current === -1) historyStart.current = draft;
      const recent = recentQueries.value.filter((query) => query !== historyStart.current.trim());
      const position = down ? historyPosition.current - 1 : historyPosition.current + 1;
      if (position < -1 || position >= recent.length) return;
      historyPosition.current = position;
      setDraft(position === -1 ? historyStart.current : (recent[position] ?? ""));
      return;
    }
    if ((event.key === "Enter" || event.key === "Tab") && open && active >= 0) {
      event.preventDefault();
      const chosen = suggestions[active];
      if (chosen) accept(chosen);
      return;
    }
    if (event.key === "Enter") {
      event.preventDefault();
      submit(draft);
      return;
    }
    if (event.key === "Escape") {
      if (open) {
        event.stopPropagation();
        close();
      } else {
        inputRef.current?.blur();
      }
    }
  };

  const error = results.value.state === "error" ? results.value.error : null;
  const queryError = error && committed.trim() !== "" && error.status === 400 ? error : null;
  // The server parses the query as sent, without the blanks around it.
  const position = useMemo(() => {
    const found = queryError?.positionIn(committed.trim());
    if (!found) return null;
    const offset = found.offset + committed.length - committed.trimStart().length;
    const point = committed.codePointAt(offset);
    const marked = point === undefined ? "" : String.fromCodePoint(point);
    return {
      ...found,
      before: Array.from(committed.slice(0, offset)).slice(-30).join(""),
      marked,
      after: Array.from(committed.slice(offset + marked.length)).slice(0, 30).join(""),
    };
  }, [queryError, committed]);
  const dirty = draft !== committed;

  return (
    <div class="query-bar">
      <form
        class={`query-form ${queryError ? "has-error" : ""}`}
        role="search"
        onSubmit={(event) => { event.preventDefault(); submit(draft); }}
      >
        <Icon name="search" />
        <input
          ref={inputRef}
          class="query-input"
          type="text"
          spellcheck={false}
          autocomplete="off"
          aria-label="Query (Lucene syntax)"
          aria-autocomplete="list"
          aria-expanded={suggestions.length > 0}
          aria-controls="query-suggestions"
          placeholder='Search… e.g. level:error AND app_name:auth   ( / to focus )'
          value={draft}
          onInput={(event) => {
            const input = event.currentTarget;
            setDraft(input.value);
            historyPosition.current = -1;
            suggest(input.value, input.selectionStart ?? input.value.length);
          }}
          onFocus={(event) => { suggest(event.currentTarget.value, event.currentTarget.selectionStart ?? 0); }}
          onBlur={() => { window.setTimeout(close, 150); }}
          onKeyDown={onKeyDown}
        />
        {dirty ? <span class="query-dirty" title="Press Enter to run this query">Enter to run</span> : null}
        <button type="submit" class="button primary">Search</button>
        {suggestions.length > 0 ? (
          <ul class="suggestions" id="query-suggestions" role="listbox">
            {suggestions.map((suggestion, index) => (
              <li
                key={`${suggestion.kind}:${suggestion.text}`}
                role="option"
                aria-selected={index === active}
                class={index === active ? "active" : ""}
                onPointerDown={(event) => { event.preventDefault(); accept(suggestion); }}
              >
                <span class={`suggestion-kind kind-${suggestion.kind}`}>
                  {suggestion.kind === "history" ? <Icon name="clock" /> : suggestion.kind === "field" ? typeBadge(suggestion.detail) : "v"}
                </span>
                <span class="suggestion-text">{showControls(truncate(suggestion.text, 200).text)}</span>
                <span class="suggestion-detail">{suggestion.detail}</span>
              </li>
            ))}
          </ul>
        ) : null}
      </form>
      {queryError ? (
        <div class="query-error" role="alert" data-testid="query-error">
          <span class="query-error-reason"><code>{queryError.type}</code> {queryError.reason}</span>
          {position !== null ? (
            <span class="query-error-position">
              line {position.line}, column {position.column}:{" "}
              <code>
                {showControls(position.before)}
                <mark title={position.marked ? undefined : "the end of the query"}>{showControls(position.marked) || " "}</mark>
                {showControls(position.after)}
              </code>
            </span>
          ) : null}
          {queryError.causes[0] ? <span class="query-error-cause">{queryError.causes[0]}</span> : null}
        </div>
      ) : null}
    </div>
  );
}
