export * from "../workflows/cifar10/fixtures.js"; // moved: removed after the merge
