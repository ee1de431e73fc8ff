import argon2 from 'argon2';

/**
 * Password hashing with argon2id at the OWASP Password Storage Cheat Sheet parameters (m=19 MiB, t=2, p=1).
 * argon2 runs on libuv's thread pool, so hashing never blocks the event loop.
 */
export const ARGON2_PARAMS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export class PasswordHasher {
  /** Verified when the account does not exist, so the response takes as long either way (no enumeration by timing). */
  private dummyHash: Promise<string>;
  /** argon2 work started and not yet finished (see {@link drain}). */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly params: typeof ARGON2_PARAMS = ARGON2_PARAMS) {
    this.dummyHash = this.track(argon2.hash('portcullis-dummy-password', this.params));
  }

  async hash(password: string): Promise<string> {
    // NFKC so the same password typed on different keyboards/OSes matches (NIST 800-63B §5.1.1.2).
    return this.track(argon2.hash(password.normalize('NFKC'), this.params));
  }

  /**
   * Resolves once every hash and verification started so far has finished. Shutdown waits for it: a process cannot
   * exit while libuv's thread pool still holds argon2 work (the pool's threads are joined at exit, after the queue
   * runs), so requests abandoned by their clients would otherwise stretch the exit by seconds with nothing logged.
   */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    work.then(
      () => this.inFlight.delete(work),
      () => this.inFlight.delete(work),
    );
    return work;
  }

  /** Checks `password` against `hash`; with no hash it burns the same time against a dummy and returns false. */
  async verify(hash: string | undefined, password: string): Promise<boolean> {
    const target = hash ?? (await this.dummyHash);
    let ok = false;
    try {
      ok = await this.track(argon2.verify(target, password.normalize('NFKC')));
    } catch {
      ok = false;
    }
    return ok && hash !== undefined;
  }

  /** True when the stored hash was made with other parameters and should be replaced after a successful sign-in. */
  needsRehash(hash: string): boolean {
    return argon2.needsRehash(hash, this.params);
  }
}
