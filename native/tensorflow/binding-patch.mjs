// One addition to the tfjs-node binding, applied to its sources before node-gyp builds them.
//
// `addFunctionDef(bytes)` registers a serialized tensorflow.FunctionDef in the binding's eager
// context (TFE_ContextAddFunctionDef). The function can then run as one op through the binding's
// existing `executeOp`, and TensorFlow executes its body as a graph, with its graph rewrites
// (oneDNN's conv + bias + ReLU fusion, common-subexpression elimination, constant folding).
// That is how podtrain runs a whole training step in one call (src/tf/graph/), the way Keras'
// compiled train_step runs, instead of one eager op at a time through JavaScript.
//
// Each edit names an anchor that must occur exactly once in the pristine 4.22 sources; anything
// else stops provisioning with a clear message instead of building a binding that lacks the call.
import fs from 'node:fs';
import path from 'node:path';

export const BINDING_PATCH_MARK = 'podtrain: addFunctionDef';
// Bumped when the inserted code changes, so provisioning rebuilds a binding built from older code.
export const BINDING_PATCH_VERSION = 1;

const BACKEND_DECLARATION = `
  // ${BINDING_PATCH_MARK} (inserted by podtrain's native/tensorflow/binding-patch.mjs):
  // registers a serialized tensorflow.FunctionDef (Uint8Array) in the eager context.
  napi_value AddFunctionDef(napi_env env, napi_value function_def_value);
`;

const BACKEND_DEFINITION = `
// ${BINDING_PATCH_MARK} (inserted by podtrain's native/tensorflow/binding-patch.mjs)
napi_value TFJSBackend::AddFunctionDef(napi_env env, napi_value function_def_value) {
  bool is_typed_array = false;
  napi_status nstatus = napi_is_typedarray(env, function_def_value, &is_typed_array);
  ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
  if (!is_typed_array) {
    NAPI_THROW_ERROR(env, "addFunctionDef expects a Uint8Array holding a serialized FunctionDef");
    return nullptr;
  }
  napi_typedarray_type array_type;
  size_t length = 0;
  void *data = nullptr;
  napi_value array_buffer;
  size_t byte_offset = 0;
  nstatus = napi_get_typedarray_info(env, function_def_value, &array_type, &length, &data,
                                     &array_buffer, &byte_offset);
  ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
  if (array_type != napi_uint8_array) {
    NAPI_THROW_ERROR(env, "addFunctionDef expects a Uint8Array holding a serialized FunctionDef");
    return nullptr;
  }
  TF_AutoStatus tf_status;
  TFE_ContextAddFunctionDef(tfe_context_, static_cast<const char *>(data), length,
                            tf_status.status);
  ENSURE_TF_OK_RETVAL(env, tf_status, nullptr);
  napi_value undefined_value;
  nstatus = napi_get_undefined(env, &undefined_value);
  ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
  return undefined_value;
}

}  // namespace tfnodejs
`;

const BINDING_FUNCTION = `// ${BINDING_PATCH_MARK} (inserted by podtrain's native/tensorflow/binding-patch.mjs)
static napi_value AddFunctionDef(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_value js_this;
  napi_status nstatus = napi_get_cb_info(env, info, &argc, args, &js_this, nullptr);
  ENSURE_NAPI_OK_RETVAL(env, nstatus, nullptr);
  if (argc < 1) {
    NAPI_THROW_ERROR(env, "addFunctionDef expects one argument");
    return nullptr;
  }
  TFJSBackend *const backend = GetTFJSBackend(env);
  if (!backend) return nullptr;
  return backend->AddFunctionDef(env, args[0]);
}

static void FinalizeTFNodeJSBinding(`;

const EDITS = [
  { file: 'tfjs_backend.h', anchor: 'class TFJSBackend {\n public:\n', insert: (a) => a + BACKEND_DECLARATION },
  { file: 'tfjs_backend.cc', anchor: '\n}  // namespace tfnodejs\n', insert: () => '\n' + BACKEND_DEFINITION },
  { file: 'tfjs_binding.cc', anchor: 'static void FinalizeTFNodeJSBinding(', insert: () => BINDING_FUNCTION },
  {
    file: 'tfjs_binding.cc',
    anchor: '      {"getNumOfTensors", nullptr, GetNumOfTensors, nullptr, nullptr,\n       nullptr, napi_default, nullptr},\n',
    insert: (a) => a + '      {"addFunctionDef", nullptr, AddFunctionDef, nullptr, nullptr, nullptr,\n       napi_default, nullptr},\n',
  },
];

function occurrences(text, anchor) {
  let count = 0;
  for (let at = text.indexOf(anchor); at !== -1; at = text.indexOf(anchor, at + anchor.length)) count++;
  return count;
}

/**
 * Applies the edits to `<packageDir>/binding/` in place. Idempotent: sources that already carry
 * the mark are left alone. Throws an Error naming the file and anchor when the sources differ
 * from what the edits expect (another tfjs-node version).
 */
export function applyBindingPatch(packageDir) {
  const bindingDir = path.join(packageDir, 'binding');
  const originals = new Map();
  for (const { file } of EDITS) if (!originals.has(file)) originals.set(file, fs.readFileSync(path.join(bindingDir, file), 'utf8'));
  const patched = new Map(originals);
  for (const { file, anchor, insert } of EDITS) {
    const text = patched.get(file);
    if (originals.get(file).includes(BINDING_PATCH_MARK)) continue;
    const found = occurrences(text, anchor);
    if (found !== 1) {
      throw new Error(`cannot add addFunctionDef to the tfjs-node binding: expected one ${JSON.stringify(anchor.trim().split('\n')[0])} in binding/${file}, found ${found}. The edits in native/tensorflow/binding-patch.mjs fit @tensorflow/tfjs-node 4.22.0.`);
    }
    patched.set(file, text.replace(anchor, () => insert(anchor)));
  }
  let changed = 0;
  for (const [file, text] of patched) {
    if (text === originals.get(file)) continue;
    fs.writeFileSync(path.join(bindingDir, file), text);
    changed++;
  }
  return { changed };
}
