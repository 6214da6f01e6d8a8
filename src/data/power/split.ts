export * from "../../workflows/power/split.js"; // moved: removed after the merge
