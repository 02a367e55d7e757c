// A highlighted fragment from the server: the tags we asked for become <mark> elements we
// create, and everything between them stays text. The fragment is never parsed as markup.

import { HIGHLIGHT_POST, HIGHLIGHT_PRE } from "../explorer/query";
import { showControls, truncate } from "../lib/format";

export function HighlightedText({ fragment, max }: { fragment: string; max: number }) {
  const parts: { text: string; marked: boolean }[] = [];
  let rest = fragment;
  let budget = max;
  while (rest.length > 0 && budget > 0) {
    const start = rest.indexOf(HIGHLIGHT_PRE);
    if (start === -1) {
      parts.push({ text: rest, marked: false });
      break;
    }
    if (start > 0) parts.push({ text: rest.slice(0, start), marked: false });
    const afterPre = rest.slice(start + HIGHLIGHT_PRE.length);
    const end = afterPre.indexOf(HIGHLIGHT_POST);
    if (end === -1) {
      parts.push({ text: afterPre, marked: true });
      break;
    }
    parts.push({ text: afterPre.slice(0, end), marked: true });
    rest = afterPre.slice(end + HIGHLIGHT_POST.length);
    budget -= start + end;
  }
  // Cut to `max` characters overall, as an unhighlighted cell would be.
  let left = max;
  const shown: typeof parts = [];
  for (const part of parts) {
    if (left <= 0) break;
    const cut = truncate(part.text, left);
    shown.push({ text: cut.text, marked: part.marked });
    left -= part.text.length;
  }
  return (
    <>
      {shown.map((part, index) => (part.marked ? <mark key={index}>{showControls(part.text)}</mark> : showControls(part.text)))}
    </>
  );
}
