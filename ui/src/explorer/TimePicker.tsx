// The explorer's time range, kept in its view (the URL).

import { TimeRangePicker } from "../components/TimeRangePicker";
import { refreshCount, updateView, view } from "./state";

export function TimePicker() {
  return (
    <TimeRangePicker
      range={view.value.range}
      onApply={(range) => { updateView({ range }); }}
      onRefresh={() => { refreshCount.value += 1; }}
    />
  );
}
