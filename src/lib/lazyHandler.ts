/**
 * A handler whose module loads on its first invocation. The function files register their triggers with only
 * @azure/functions and the schedules loaded, so the worker's cold import stays small; each handler then loads
 * the Azure SDK clients it needs (the report's stored read needs no ARM client at all) once, when first called.
 */
export function lazyHandler<A extends unknown[], R>(load: () => Promise<(...args: A) => Promise<R>>): (...args: A) => Promise<R> {
  let loaded: Promise<(...args: A) => Promise<R>> | undefined;
  return async (...args: A) => {
    if (!loaded) {
      const pending = load();
      loaded = pending;
      // A failed load is not kept: the next invocation tries again and reports the same error.
      pending.catch(() => {
        if (loaded === pending) loaded = undefined;
      });
    }
    return (await loaded)(...args);
  };
}
