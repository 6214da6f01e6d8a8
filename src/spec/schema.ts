export * from "../config/schema.js"; // moved: removed after the merge
