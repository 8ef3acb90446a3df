// The bound on bytes the transfer engine holds in memory: bytes of a chunk
// that arrived ahead of its object's hash (SHA-256 needs them in order) wait
// here until the hash reaches them, instead of being read back from disk. A
// chunk that would go past the bound stops reading its response (TCP
// backpressure reaches the server) until the hash catches up or other bytes
// are released. The chunk the hash is waiting for never waits here, so the
// bound cannot deadlock the transfer.
//
// Held bytes are copied into slabs of a pool that is reused, not kept as the
// buffers the socket gave: those would live long enough to reach V8's old
// generation, and each release would then wait for a full garbage collection
// (measured: dozens of mark-compacts per GiB). A copy is cheap next to that.

const SLAB = 1 << 20;

/** Bytes held for one chunk: whole slabs, the last one filled to `fill`. */
export class HeldBytes {
  slabs: Buffer[] = [];
  fill = 0;
  bytes = 0;
}

export class HeldBudget {
  readonly limit: number;
  #used = 0;
  #peak = 0;
  #free: Buffer[] = [];
  #slabs = 0;
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

  /** Bytes of the slabs this budget keeps (held or free): what it holds in memory, whatever is in them. */
  get allocated(): number {
    return this.#slabs * SLAB;
  }

  /** Slabs allocated so far (tests: reuse means this stops growing). */
  get created(): number {
    return this.#slabs;
  }

  get full(): boolean {
    return this.#used >= this.limit;
  }

  /** Copies `b` into `h`'s slabs (taking slabs from the pool, or new ones). May go past the limit by what one caller delivers at once. */
  hold(h: HeldBytes, b: Uint8Array): void {
    let off = 0;
    while (off < b.length) {
      let slab = h.slabs.at(-1);
      if (slab === undefined || h.fill === slab.length) {
        slab = this.#free.pop() ?? this.#newSlab();
        h.slabs.push(slab);
        h.fill = 0;
      }
      const n = Math.min(b.length - off, slab.length - h.fill);
      slab.set(b.subarray(off, off + n), h.fill);
      h.fill += n;
      off += n;
    }
    h.bytes += b.length;
    this.#used += b.length;
    if (this.#used > this.#peak) this.#peak = this.#used;
  }

  /** Hands `h`'s bytes, in order, to `use`, then returns its slabs to the pool. */
  drain(h: HeldBytes, use: (b: Uint8Array) => void): void {
    h.slabs.forEach((s, i) => use(i === h.slabs.length - 1 ? s.subarray(0, h.fill) : s));
    this.discard(h);
  }

  /** Gives `h`'s slabs back without reading them. */
  discard(h: HeldBytes): void {
    if (h.bytes === 0 && h.slabs.length === 0) return;
    this.#used -= h.bytes;
    // Every slab is kept for reuse: the bytes held come and go by the MiB all the time, and a slab let go here
    // and allocated again later is a long-lived buffer left to a mark-compact (the hydrator's peak RSS). The
    // pool is bounded by the most ever held: the limit plus what each running chunk may deliver past it.
    for (const s of h.slabs) this.#free.push(s);
    h.slabs = [];
    h.fill = 0;
    h.bytes = 0;
    this.notify();
  }

  #newSlab(): Buffer {
    this.#slabs++;
    return Buffer.allocUnsafeSlow(SLAB);
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
