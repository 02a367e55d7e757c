// ESLint flat config: typescript-eslint's type-aware rules for the app, plain rules for the
// node scripts and the browser tests.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/"] },
  js.configs.recommended,
  {
    files: ["src/**/*.{ts,tsx}"],
    extends: [...tseslint.configs.strictTypeChecked, ...tseslint.configs.stylisticTypeChecked],
    languageOptions: {
      globals: globals.browser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Hostile log data is rendered as text only; these are the doors markup would come through.
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: "log data is text: build nodes, never markup" },
        { property: "outerHTML", message: "log data is text: build nodes, never markup" },
        { property: "insertAdjacentHTML", message: "log data is text: build nodes, never markup" },
      ],
      "no-restricted-syntax": [
        "error",
        {
          selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']",
          message: "log data is text: never dangerouslySetInnerHTML",
        },
      ],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreArrowShorthand: true }],
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    files: ["*.{js,mjs}"],
    languageOptions: { globals: globals.node },
  },
  {
    // Tests and benchmarks run in node and hand functions to the page, which run in the
    // browser.
    files: ["tests/**/*.mjs", "bench/**/*.mjs"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
);
