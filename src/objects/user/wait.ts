/**
 * Long-poll waits in the user object: a waiter resolves when a writer wakes it (it then leaves the
 * set the writer cleared) or after `ms`, whichever comes first.
 */
export function waitForWake(waiters: Set<() => void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      waiters.delete(wake);
      resolve();
    }, ms);
    const wake = () => {
      clearTimeout(timer);
      resolve();
    };
    waiters.add(wake);
  });
}
