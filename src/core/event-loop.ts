/** Resolves on the next turn of the event loop: lets signal handlers run between synchronous steps. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
