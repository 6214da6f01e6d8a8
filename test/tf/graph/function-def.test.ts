import { beforeAll, describe, expect, it } from "vitest";
import { loadTensorFlow, type TensorFlowModule } from "../../../src/tf/backend.js";
import { FunctionGraph, OUTPUT_ARGS } from "../../../src/tf/graph/function-def.js";
import { graphExecutionUnavailable, registerFunction } from "../../../src/tf/graph/native-function.js";

let tf: TensorFlowModule;
beforeAll(async () => {
  ({ tf } = await loadTensorFlow("tensorflow"));
});

function affine(scale: number) {
  const graph = new FunctionGraph();
  const x = graph.input("x", "float32");
  const scaled = graph.op("Mul", [x, graph.constant(scale, [])], { T: { type: "float32" } });
  const shifted = graph.op("AddV2", [scaled, graph.constant([1, 2], [2])], { T: { type: "float32" } });
  graph.output("y", shifted);
  graph.output("total", graph.op("Sum", [shifted, graph.constant([0], [1], "int32")], { T: { type: "float32" }, Tidx: { type: "int32" }, keep_dims: { bool: false } }));
  return graph;
}

describe("FunctionGraph", () => {
  it("serializes deterministically, naming the function after its content", () => {
    expect(affine(2).serialize("f").name).toBe(affine(2).serialize("f").name);
    expect(affine(2).serialize("f").name).not.toBe(affine(3).serialize("f").name);
    expect(affine(2).serialize("f").name).toMatch(/^f_[0-9a-f]{16}$/);
  });

  it("rejects bad argument names, unknown ops and constants whose values do not fill their shape", () => {
    const graph = new FunctionGraph();
    expect(() => graph.input("Images", "float32")).toThrow('function argument name "Images" must match');
    graph.input("x", "float32");
    expect(() => graph.input("x", "float32")).toThrow("function argument x is defined twice");
    expect(() => graph.op("Tanh", [])).toThrow("graph op Tanh has no entry in OUTPUT_ARGS");
    expect(() => graph.constant([1, 2, 3], [2, 2])).toThrow("has 3 values for shape [2, 2]");
  });

  it("names the outputs of every op it emits", () => {
    expect(OUTPUT_ARGS.SoftmaxCrossEntropyWithLogits).toEqual(["loss", "backprop"]);
  });
});

describe("registerFunction", () => {
  it("registers a function once and runs it as one op on the native backend", () => {
    expect(graphExecutionUnavailable(tf)).toBeUndefined();
    const first = registerFunction(tf, affine(2), "affine", 2);
    const again = registerFunction(tf, affine(2), "affine", 2);
    expect(again.name).toBe(first.name);
    const [y, total] = first.call([tf.tensor1d([3, 4])]);
    expect(Array.from(y!.dataSync())).toEqual([7, 10]);
    expect(total!.dataSync()[0]).toBe(17);
  });

  it("reports TensorFlow's own message when a graph is malformed", () => {
    const graph = new FunctionGraph();
    const x = graph.input("x", "float32");
    graph.output("y", graph.op("MatMul", [x, x], { T: { type: "float32" }, transpose_a: { bool: false }, transpose_b: { bool: false } }));
    const broken = registerFunction(tf, graph, "matmul", 1);
    expect(() => broken.call([tf.tensor1d([1, 2])])).toThrow(/function_node matmul_[0-9a-f]{16}\}\} In\[0\] ndims must be >= 2/);
  });
});
