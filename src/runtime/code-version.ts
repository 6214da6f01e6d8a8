export * from "../core/code-version.js"; // moved: removed after the merge
