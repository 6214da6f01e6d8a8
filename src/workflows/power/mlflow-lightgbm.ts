export * from "../../tracking/model-formats/lightgbm.js"; // moved: removed after the merge
