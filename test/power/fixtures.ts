export * from "../workflows/power/fixtures.js"; // moved: removed after the merge
