// The alerts' pages, loaded on demand by main.tsx.

export { AlertsPage } from "./AlertsPage";
export { RuleEditorPage } from "./RuleEditor";
