export * from "../core/errors.js"; // moved: removed after the merge
