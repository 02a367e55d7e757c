// Share links: the URL already holds the whole view; "absolute" pins relative times, so the
// link shows the same events tomorrow.

import { CopyButton } from "../components/CopyButton";
import { Icon } from "../components/Icon";
import { Popover } from "../components/Popover";
import { bounds } from "./search";
import { searchFromView, view } from "./state";

function link(absolute: boolean): string {
  const current = view.peek();
  const resolved = bounds.peek();
  const shared = absolute && resolved
    ? { ...current, range: { from: new Date(resolved.from).toISOString(), to: new Date(resolved.to).toISOString() } }
    : current;
  return `${window.location.origin}${window.location.pathname}${searchFromView(shared)}`;
}

export function ShareMenu() {
  return (
    <Popover title="Share" align="right" panelClass="share-panel" label={<><Icon name="link" /><span>Share</span></>}>
      {() => (
        <div class="share-list">
          <p class="hint">The link reproduces this view: index pattern, query, time range, columns, sort and the open event.</p>
          <div class="share-row">
            <input class="text-input" readOnly value={link(false)} aria-label="Link" onFocus={(event) => { event.currentTarget.select(); }} />
            <CopyButton label="Copy link" text={() => link(false)} />
          </div>
          <div class="share-row">
            <input class="text-input" readOnly value={link(true)} aria-label="Link with absolute times" onFocus={(event) => { event.currentTarget.select(); }} />
            <CopyButton label="Copy with absolute times" text={() => link(true)} />
          </div>
        </div>
      )}
    </Popover>
  );
}
