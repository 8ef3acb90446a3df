// The bound on bytes the transfer engine holds in memory: bytes of a chunk
// that arrived ahead of its object's hash (SHA-256 needs them in order) wait
// here until the hash reaches them, instead of being read back from disk. A
// chunk that would go past the bound stops reading its response (TCP
// backpressure reaches the server) until the hash catches up or other bytes
// are released. The chunk the hash is waiting for never waits here, so the
// bound cannot deadlock the transfer.

export class HeldBudget {
  readonly limit: number;
  #used = 0;
  #peak = 0;
  #waiters = new Set<() => void>();

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** The most bytes held at once (tests read it to prove the bound). */
  get peak(): number {
    return this.#peak;
  }

  get full(): boolean {
    return this.#used >= this.limit;
  }

  take(n: number): void {
    this.#used += n;
    if (this.#used > this.#peak) this.#peak = this.#used;
  }

  release(n: number): void {
    if (n === 0) return;
    this.#used -= n;
    this.notify();
  }

  /** Wakes every waiter to look at its condition again (bytes released, or a hash frontier moved). */
  notify(): void {
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }

  /** Resolves once `ready()` holds (checked at every release or notify); rejects when `signal` aborts. */
  async waitUntil(ready: () => boolean, signal: AbortSignal): Promise<void> {
    while (!ready()) {
      if (signal.aborted) throw signal.reason;
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.#waiters.delete(wake);
          reject(signal.reason);
        };
        const wake = (): void => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
        this.#waiters.add(wake);
        signal.addEventListener("abort", onAbort, { once: true });
      });
    }
  }
}
