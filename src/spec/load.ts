export * from "../config/load.js"; // moved: removed after the merge
