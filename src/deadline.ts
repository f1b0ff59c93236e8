/**
 * A wait bounded by a deadline that never aborts what it waits for: the gate is answered on
 * time, and the work goes on (a ministry call under its own timeout fills the cache; a late
 * decision is still recorded). Aborting an HTTP/1.1 request destroys its pooled connection.
 */

/**
 * The result of `call` if it settles within `budgetMs`, else `late()` at the budget's end.
 * The call is not aborted. It must not reject: turn a failure into a value first.
 */
export function within<T, R>(call: Promise<T>, budgetMs: number, onTime: (result: T) => R, late: () => R): R | Promise<R> {
  if (budgetMs <= 0) return late();
  return new Promise<R>((resolve) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      resolve(late());
    }, budgetMs);
    void call.then((result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(onTime(result));
    });
  });
}
