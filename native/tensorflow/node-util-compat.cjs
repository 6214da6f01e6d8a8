// Puts back `util.isNullOrUndefined`, which @tensorflow/tfjs-node 4.22 calls and Node.js 23 removed,
// and quiets `util.isArray`, which it also calls and which now warns.
//
// Without the first every op of the native backend fails on Node 24 (the container images' Node)
// with "isNullOrUndefined is not a function". Both users load it before tfjs-node:
//   - src/tf/backend.ts, when `train` loads the native backend;
//   - native/tensorflow/provision.mjs, whose self-check preloads it (`node --require`).
// One file so that the two cannot drift apart; CommonJS and standard library only, because
// provisioning runs before the TypeScript sources are compiled, and `--require` needs CommonJS.
// Each function gets its documented meaning. util.isArray still exists on Node 24 but warns
// (DEP0044, "The `util.isArray` API is deprecated") into every pod's log at the first op, so it
// becomes what the documentation says it is an alias of: Array.isArray.
'use strict';

const util = require('node:util');

function restoreRemovedUtilFunctions() {
  util.isNullOrUndefined ??= (value) => value === null || value === undefined;
  if (util.isArray !== Array.isArray) util.isArray = Array.isArray;
}

restoreRemovedUtilFunctions();

module.exports = { restoreRemovedUtilFunctions };
