// ESLint for the dashboard's ES modules (static/nsmap), run by `make lint` with the machine's node.
import js from "@eslint/js";
import globals from "globals";

const markup = "The page never builds markup from data: use h() / fill() from static/nsmap/dom.js.";

export default [
  js.configs.recommended,
  {
    files: ["static/nsmap/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: "AssignmentExpression > MemberExpression.left[property.name=/^(innerHTML|outerHTML)$/]", message: markup },
        { selector: "CallExpression > MemberExpression.callee[property.name=/^(insertAdjacentHTML|write|writeln)$/]", message: markup },
      ],
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
      eqeqeq: ["error", "smart"],
      "prefer-const": "error",
    },
  },
];
