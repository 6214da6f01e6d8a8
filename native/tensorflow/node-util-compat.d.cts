/** Adds util.isNullOrUndefined and util.isArray where Node.js lacks them (≥ 23); idempotent. */
export declare function restoreRemovedUtilFunctions(): void;
