// The dashboards' pages, loaded together with `import()` when one of them opens.

export { DashboardList } from "./DashboardList";
export { DashboardPage } from "./DashboardPage";
