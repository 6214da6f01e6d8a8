export * from "../core/fs-atomic.js"; // moved: removed after the merge
