// The order in which waiting calls get a worker: fair between tenants, not
// first come first served. A tenant (a control-plane namespace) may have at
// most `perTenantRunning` calls on workers and `perTenantQueued` waiting; the
// next free worker goes to the tenant after the one served last that has a
// call waiting and is under its share (round robin). So one namespace sending
// a thousand expensive calls holds at most its share of the workers, and a
// call of another namespace waits for at most one call to finish, never
// behind the thousand.

export interface FairQueueLimits {
  /** Calls of one tenant on workers at once. */
  perTenantRunning: number;
  /** Calls of one tenant waiting for a worker; more are refused. */
  perTenantQueued: number;
}

interface Lane<J> {
  waiting: J[];
  running: number;
}

export type Enqueued = { ok: true } | { ok: false; queued: number };

export class FairQueue<J> {
  private readonly limits: FairQueueLimits;
  /** Insertion order is the round robin: a tenant served moves to the end. */
  private readonly lanes = new Map<string, Lane<J>>();
  private waitingCount = 0;

  constructor(limits: FairQueueLimits) {
    this.limits = limits;
  }

  /** Queue a call of `tenant`, or refuse it when the tenant already has its full share waiting. */
  push(tenant: string, job: J): Enqueued {
    const lane = this.lanes.get(tenant) ?? { waiting: [], running: 0 };
    if (lane.waiting.length >= this.limits.perTenantQueued) return { ok: false, queued: lane.waiting.length };
    lane.waiting.push(job);
    this.waitingCount++;
    this.lanes.set(tenant, lane);
    return { ok: true };
  }

  /** Take a waiting call out (its caller went away). True when it was still waiting. */
  remove(tenant: string, job: J): boolean {
    const lane = this.lanes.get(tenant);
    const i = lane ? lane.waiting.indexOf(job) : -1;
    if (!lane || i < 0) return false;
    lane.waiting.splice(i, 1);
    this.waitingCount--;
    this.forgetIdle(tenant, lane);
    return true;
  }

  /** The next call to run, counted as running for its tenant until `done`. */
  next(): { tenant: string; job: J } | undefined {
    for (const [tenant, lane] of this.lanes) {
      if (lane.waiting.length === 0 || lane.running >= this.limits.perTenantRunning) continue;
      const job = lane.waiting.shift() as J;
      this.waitingCount--;
      lane.running++;
      // To the back of the round robin.
      this.lanes.delete(tenant);
      this.lanes.set(tenant, lane);
      return { tenant, job };
    }
    return undefined;
  }

  /** A call `next` handed out has finished (answered, timed out or its worker died). */
  done(tenant: string): void {
    const lane = this.lanes.get(tenant);
    if (!lane || lane.running === 0) throw new Error(`unreachable: no running call of tenant ${JSON.stringify(tenant)}`);
    lane.running--;
    this.forgetIdle(tenant, lane);
  }

  waiting(): number {
    return this.waitingCount;
  }

  running(tenant: string): number {
    return this.lanes.get(tenant)?.running ?? 0;
  }

  /** A tenant with nothing waiting or running holds no memory. */
  private forgetIdle(tenant: string, lane: Lane<J>): void {
    if (lane.waiting.length === 0 && lane.running === 0) this.lanes.delete(tenant);
  }
}
