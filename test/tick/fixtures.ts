export * from "../workflows/tick/fixtures.js"; // moved: removed after the merge
