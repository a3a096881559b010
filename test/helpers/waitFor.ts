// Waiting for a condition that events make true: `check` runs now and again each time a listener
// in `listeners` is called (by whoever receives the events), until it yields a value or time runs out.

export function waitUntil<T>(
  listeners: Set<() => void>, check: () => T | undefined | false, what: string, timeoutMs: number, context: () => string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const test = () => {
      const value = check();
      if (value) {
        done();
        resolve(value);
      }
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out waiting for ${what}; ${context()}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      listeners.delete(test);
    };
    listeners.add(test);
    test();
  });
}
