import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
// @ts-expect-error plain ES module without type declarations (it runs before TypeScript is built)
import { applyBindingPatch, BINDING_PATCH_MARK } from "../../native/tensorflow/binding-patch.mjs";

const require = createRequire(import.meta.url);
const packageDir = path.dirname(require.resolve("@tensorflow/tfjs-node/package.json"));
const scratch: string[] = [];
afterEach(() => scratch.splice(0).forEach((folder) => fs.rmSync(folder, { recursive: true, force: true })));

function copyBinding(): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), "podtrain-binding-"));
  scratch.push(folder);
  fs.cpSync(path.join(packageDir, "binding"), path.join(folder, "binding"), { recursive: true });
  return folder;
}

/** The pristine 4.22 sources, rebuilt by cutting what the patch inserted (so the test can run after setup). */
function unpatch(folder: string): void {
  for (const file of ["tfjs_backend.h", "tfjs_backend.cc", "tfjs_binding.cc"]) {
    const target = path.join(folder, "binding", file);
    const text = fs.readFileSync(target, "utf8");
    fs.writeFileSync(target, text.replace(/\n  \/\/ podtrain: addFunctionDef[\s\S]*?napi_value AddFunctionDef\(napi_env env, napi_value function_def_value\);\n/, "\n")
      .replace(/\n\/\/ podtrain: addFunctionDef[\s\S]*?\n}\n\n}  \/\/ namespace tfnodejs\n/, "\n}  // namespace tfnodejs\n")
      .replace(/\/\/ podtrain: addFunctionDef[\s\S]*?\nstatic void FinalizeTFNodeJSBinding\(/, "static void FinalizeTFNodeJSBinding(")
      .replace(/      \{"addFunctionDef"[^\n]*\n[^\n]*\n/, ""));
  }
}

describe("applyBindingPatch", () => {
  it("adds addFunctionDef to the tfjs-node 4.22 binding sources once", () => {
    const folder = copyBinding();
    unpatch(folder);
    const pristine = fs.readFileSync(path.join(folder, "binding", "tfjs_binding.cc"), "utf8");
    expect(pristine).not.toContain(BINDING_PATCH_MARK);
    expect(applyBindingPatch(folder)).toEqual({ changed: 3 });
    const binding = fs.readFileSync(path.join(folder, "binding", "tfjs_binding.cc"), "utf8");
    expect(binding).toContain('{"addFunctionDef", nullptr, AddFunctionDef');
    expect(fs.readFileSync(path.join(folder, "binding", "tfjs_backend.cc"), "utf8")).toContain("TFE_ContextAddFunctionDef(tfe_context_");
    expect(applyBindingPatch(folder)).toEqual({ changed: 0 });
  });

  it("stops with a message naming the file when the sources are not the ones it fits", () => {
    const folder = copyBinding();
    unpatch(folder);
    const header = path.join(folder, "binding", "tfjs_backend.h");
    fs.writeFileSync(header, fs.readFileSync(header, "utf8").replace("class TFJSBackend {\n public:\n", "class TFJSBackend {\npublic:\n"));
    expect(() => applyBindingPatch(folder)).toThrow('cannot add addFunctionDef to the tfjs-node binding: expected one "class TFJSBackend {" in binding/tfjs_backend.h, found 0.');
  });
});
