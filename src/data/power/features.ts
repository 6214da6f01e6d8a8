export * from "../../workflows/power/features.js"; // moved: removed after the merge
