import type { Cifar10Params } from "./params.js";

// Learning rate per epoch. Per-epoch (not per-step) so the value logged with each epoch's
// metrics is the one that epoch trained with.

export const STEP_DECAY_FACTOR = 0.1;
export const STEP_MILESTONES = [0.5, 0.75] as const;

export function learningRateAt(epoch: number, params: Pick<Cifar10Params, "learning_rate" | "epochs" | "schedule">): number {
  const { learning_rate: peak, epochs, schedule } = params;
  switch (schedule) {
    case "constant":
      return peak;
    case "step": {
      const passed = STEP_MILESTONES.filter((milestone) => epoch >= Math.round(milestone * epochs)).length;
      return peak * STEP_DECAY_FACTOR ** passed;
    }
    case "cosine":
      // Epoch 0 trains at the peak; the last epoch at a small but non-zero rate.
      return 0.5 * peak * (1 + Math.cos((Math.PI * epoch) / epochs));
  }
}
