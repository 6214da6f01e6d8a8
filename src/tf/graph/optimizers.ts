// Optimizer updates as graph ops, computed exactly as tfjs-core's optimizers compute them, so a
// graph step and tfjs-layers' trainOnBatch give the same weights (test/tf/graph/).
import { UnsupportedLayerError } from "./layers.js";
import type { FunctionGraph, GraphTensor } from "./function-def.js";

const FLOAT: { type: "float32" } = { type: "float32" };

interface OptimizerLike {
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  /** Current rate: read every step, so schedules that call setLearningRate take effect. */
  learningRate: number;
}

export interface GraphOptimizer {
  /** Per-weight state tensors (Adam: m and v; momentum: the accumulation). */
  readonly slotsPerWeight: number;
  /** Emits one weight's update: returns the new weight and its new slot values. */
  update(graph: FunctionGraph, scalars: UpdateScalars, weight: GraphTensor, gradient: GraphTensor, slots: readonly GraphTensor[]): { weight: GraphTensor; slots: GraphTensor[] };
  /** Ops shared by all weights of one step (Adam's bias corrections). */
  prepare(graph: FunctionGraph, learningRate: GraphTensor, step: GraphTensor): UpdateScalars;
}

export type UpdateScalars = Record<string, GraphTensor>;

function adam(config: Record<string, unknown>): GraphOptimizer {
  const beta1 = Number(config.beta1);
  const beta2 = Number(config.beta2);
  const epsilon = Number(config.epsilon ?? 1e-7);
  return {
    slotsPerWeight: 2,
    prepare(graph, learningRate, step) {
      const one = graph.constant(1, []);
      const correction = (beta: number) => graph.op("Sub", [one, graph.op("Pow", [graph.constant(beta, []), step], { T: FLOAT })], { T: FLOAT });
      return {
        stepSize: graph.op("RealDiv", [learningRate, correction(beta1)], { T: FLOAT }),
        inverseSecondCorrection: graph.op("RealDiv", [one, correction(beta2)], { T: FLOAT }),
        beta1: graph.constant(beta1, []),
        oneMinusBeta1: graph.constant(1 - beta1, []),
        beta2: graph.constant(beta2, []),
        oneMinusBeta2: graph.constant(1 - beta2, []),
        epsilon: graph.constant(epsilon, []),
      };
    },
    update(graph, scalars, weight, gradient, [firstMoment, secondMoment]) {
      const mul = (a: GraphTensor, b: GraphTensor) => graph.op("Mul", [a, b], { T: FLOAT });
      const add = (a: GraphTensor, b: GraphTensor) => graph.op("AddV2", [a, b], { T: FLOAT });
      // tfjs: m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ), w −= lr·m̂/(√v̂ + ε)
      const m = add(mul(scalars.beta1!, firstMoment!), mul(scalars.oneMinusBeta1!, gradient));
      const v = add(mul(scalars.beta2!, secondMoment!), mul(scalars.oneMinusBeta2!, graph.op("Square", [gradient], { T: FLOAT })));
      const denominator = add(graph.op("Sqrt", [mul(v, scalars.inverseSecondCorrection!)], { T: FLOAT }), scalars.epsilon!);
      const change = graph.op("RealDiv", [mul(scalars.stepSize!, m), denominator], { T: FLOAT });
      return { weight: graph.op("Sub", [weight, change], { T: FLOAT }), slots: [m, v] };
    },
  };
}

function momentum(config: Record<string, unknown>): GraphOptimizer {
  if (config.useNesterov) throw new UnsupportedLayerError("Nesterov momentum is not lowered");
  const factor = Number(config.momentum);
  return {
    slotsPerWeight: 1,
    prepare: (graph, learningRate) => ({ learningRate, momentum: graph.constant(factor, []) }),
    update(graph, scalars, weight, gradient, [accumulation]) {
      // tfjs: a = m·a + g; w −= lr·a
      const next = graph.op("AddV2", [graph.op("Mul", [scalars.momentum!, accumulation!], { T: FLOAT }), gradient], { T: FLOAT });
      return { weight: graph.op("Sub", [weight, graph.op("Mul", [scalars.learningRate!, next], { T: FLOAT })], { T: FLOAT }), slots: [next] };
    },
  };
}

const OPTIMIZERS: Record<string, (config: Record<string, unknown>) => GraphOptimizer> = { Adam: adam, Momentum: momentum };

/** The graph form of the model's optimizer; throws UnsupportedLayerError for others. */
export function graphOptimizerFor(optimizer: unknown): GraphOptimizer {
  if (!optimizer) throw new UnsupportedLayerError("the model is not compiled");
  const name = (optimizer as OptimizerLike).getClassName();
  const create = OPTIMIZERS[name];
  if (!create) throw new UnsupportedLayerError(`optimizer ${name} is not lowered (${Object.keys(OPTIMIZERS).join(", ")} are)`);
  return create((optimizer as OptimizerLike).getConfig());
}

/** The rate the optimizer would use for its next step. */
export function currentLearningRate(optimizer: unknown): number {
  return Number((optimizer as OptimizerLike).learningRate);
}
