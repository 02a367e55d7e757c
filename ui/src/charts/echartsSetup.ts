// ECharts, tree-shaken to what the dashboards draw (heatmap, graph, map, pie) on a canvas.
// Imported only through `import()` (see echarts.tsx), so pages without these charts never
// load it.

import { GraphChart, HeatmapChart, MapChart, PieChart } from "echarts/charts";
import { GeoComponent, GridComponent, VisualMapComponent } from "echarts/components";
import { init, registerMap, use } from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

use([HeatmapChart, GraphChart, MapChart, PieChart, GridComponent, VisualMapComponent, GeoComponent, CanvasRenderer]);

export { init, registerMap };
