export * from "../core/redact.js"; // moved: removed after the merge
