import type { LightGBMModule } from "./module.js";
import { readCString } from "./memory.js";

/**
 * A LightGBM C API call returned a non-zero code. `nativeMessage` is LightGBM's own text
 * from LGBM_GetLastError (for example "Unknown objective type name: foo"), so callers can
 * show users what LightGBM objected to.
 */
export class LightGBMError extends Error {
  readonly functionName: string;
  readonly returnCode: number;
  readonly nativeMessage: string;

  constructor(functionName: string, returnCode: number, nativeMessage: string) {
    super(`${functionName} failed: ${nativeMessage}`);
    this.name = "LightGBMError";
    this.functionName = functionName;
    this.returnCode = returnCode;
    this.nativeMessage = nativeMessage;
  }
}

/** Throws a LightGBMError carrying LightGBM's last error message when `returnCode` is not 0. */
export function checkReturnCode(module: LightGBMModule, functionName: string, returnCode: number): void {
  if (returnCode === 0) return;
  const nativeMessage = readCString(module, module._LGBM_GetLastError());
  throw new LightGBMError(functionName, returnCode, nativeMessage);
}
