import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Tensor4D } from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { GpuUnavailableError, loadTensorFlow, NativeBackendMissingError, type TensorFlowModule } from "../../src/tf/backend.js";

const require = createRequire(import.meta.url);

/** Where tfjs-node loads its binding from (same lookup as the package itself), if provisioned. */
function nativeBindingProblem(): string | undefined {
  try {
    const pkgJson = require.resolve("@tensorflow/tfjs-node/package.json");
    const binary = require("@mapbox/node-pre-gyp") as { find(p: string): string };
    const bindingPath = binary.find(pkgJson);
    if (!fs.existsSync(bindingPath)) return `binding not built (${bindingPath})`;
    if (!fs.existsSync(path.join(path.dirname(pkgJson), "deps", "PODTRAIN-PROVISION.json"))) return "no provision stamp";
    return undefined;
  } catch (err) {
    return `@tensorflow/tfjs-node not resolvable: ${String(err)}`;
  }
}
const problem = nativeBindingProblem();
const nativeSkipReason = problem && `native TensorFlow not provisioned (${problem}); run \`npm run setup\``;
if (nativeSkipReason) console.warn(`skipping native backend tests: ${nativeSkipReason}`);

function conv2dFilterGrad(tf: TensorFlowModule): { shape: number[]; values: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => Math.sin(i)), [2, 6, 6, 3]);
    const w = tf.tensor4d(Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i) / 4), [3, 3, 3, 4]);
    const dw = tf.grad((f) => tf.conv2d(x, f as Tensor4D, 1, "same").square().sum())(w);
    return { shape: dw.shape, values: dw.dataSync() as Float32Array };
  });
}

describe("loadTensorFlow", () => {
  it("loads the pure-JS cpu backend and differentiates conv2d", async () => {
    const { tf, backend, tensorflowVersion } = await loadTensorFlow("cpu");
    expect(backend).toBe("cpu");
    expect(tensorflowVersion).toBeUndefined();
    expect(conv2dFilterGrad(tf).shape).toEqual([3, 3, 3, 4]);
  });

  it("throws NativeBackendMissingError naming `npm run setup` when tensorflow is requested but missing", async () => {
    const err = await loadTensorFlow("tensorflow", { nativePackage: "podtrain-no-such-native-package" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NativeBackendMissingError);
    expect((err as NativeBackendMissingError).code).toBe("NATIVE_BACKEND_MISSING");
    expect((err as Error).message).toContain("npm run setup");
  });

  it("auto falls back to cpu with a warning when the native backend is missing", async () => {
    const warnings: string[] = [];
    const { backend } = await loadTensorFlow("auto", { nativePackage: "podtrain-no-such-native-package", warn: (m) => warnings.push(m) });
    expect(backend).toBe("cpu");
    expect(warnings.join("\n")).toContain("npm run setup");
  });

  it.skipIf(Boolean(nativeSkipReason))("loads native TensorFlow 2.21.0 and its conv2d gradient matches cpu", async () => {
    const cpu = conv2dFilterGrad((await loadTensorFlow("cpu")).tf);
    const loaded = await loadTensorFlow("tensorflow");
    expect(loaded.backend).toBe("tensorflow");
    expect(loaded.tf.getBackend()).toBe("tensorflow");
    expect(loaded.tensorflowVersion).toBe("2.21.0");
    expect(loaded.provision?.tensorflowVersion).toBe("2.21.0");
    expect(loaded.provision?.wheelSha256).toMatch(/^[0-9a-f]{64}$/);
    const native = conv2dFilterGrad(loaded.tf);
    expect(native.shape).toEqual(cpu.shape);
    const maxDiff = native.values.reduce((m, v, i) => Math.max(m, Math.abs(v - cpu.values[i]!)), 0);
    expect(maxDiff).toBeLessThan(1e-3);
  });

  it.skipIf(Boolean(nativeSkipReason))("tensorflow-gpu refuses the CPU build and names the command that installs the CUDA one", async () => {
    const stamp = JSON.parse(fs.readFileSync(path.join(path.dirname(require.resolve("@tensorflow/tfjs-node/package.json")), "deps", "PODTRAIN-PROVISION.json"), "utf8")) as { variant: string };
    // On a checkout provisioned with --gpu (the GPU image) this test does not apply.
    if (stamp.variant !== "cpu") return;
    const failure = loadTensorFlow("tensorflow-gpu");
    await expect(failure).rejects.toBeInstanceOf(GpuUnavailableError);
    await expect(failure).rejects.toThrow("--backend tensorflow-gpu needs the CUDA build of TensorFlow, but this checkout has the cpu build (tensorflow-cpu 2.21.0). Run `npm run setup -- --gpu`");
  });

  it.skipIf(Boolean(nativeSkipReason))("auto picks the native backend when it is provisioned", async () => {
    const { backend, tensorflowVersion, usesGpu } = await loadTensorFlow("auto");
    expect(backend).toBe("tensorflow");
    expect(usesGpu).toBe(false); // no GPU on the CI machines
    expect(tensorflowVersion).toBe("2.21.0");
  });
});
