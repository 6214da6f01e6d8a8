export * from "../core/duration.js"; // moved: removed after the merge
