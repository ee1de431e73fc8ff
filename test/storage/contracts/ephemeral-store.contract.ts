/**
 * The {@link EphemeralStore} contract (see `src/storage/ports.ts`), run against every implementation by
 * `../ephemeral-store.contract.test.ts`. Keys are unique per test, so a store may be shared by the whole suite
 * and by concurrent runs on one external server.
 */
import { randomUUID } from 'node:crypto';
import type { EphemeralStore } from '../../../src/storage/ports.js';

export interface EphemeralStoreSubject {
  store: EphemeralStore;
  close(): Promise<void> | void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Registers the suite. `makeStore` runs once, in `beforeAll`. */
export function ephemeralStoreContract(name: string, makeStore: () => Promise<EphemeralStoreSubject>): void {
  describe(`EphemeralStore contract: ${name}`, () => {
    let subject: EphemeralStoreSubject;
    let store: EphemeralStore;
    const key = (label: string) => `app:test:${label}:${randomUUID()}`;

    beforeAll(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.close();
    });

    describe('get / set / delete', () => {
      it('returns what was set, and undefined for unknown keys', async () => {
        const k = key('roundtrip');
        const value = { code: '123456', attempts: 0, nested: { list: [1, 'two', null], flag: true } };
        await store.set(k, value, 60);
        expect(await store.get(k)).toEqual(value);
        expect(await store.get(key('missing'))).toBeUndefined();
      });

      it('stores primitives', async () => {
        const [s, n, b] = [key('s'), key('n'), key('b')];
        await store.set(s, 'text', 60);
        await store.set(n, 42, 60);
        await store.set(b, false, 60);
        expect(await store.get(s)).toBe('text');
        expect(await store.get(n)).toBe(42);
        expect(await store.get(b)).toBe(false);
      });

      it('overwrites the value and restarts the time to live', async () => {
        const k = key('overwrite');
        await store.set(k, 'first', 1);
        await store.set(k, 'second', 60);
        await sleep(1200);
        expect(await store.get(k)).toBe('second');
        expect(await store.ttl(k)).toBeGreaterThan(55);
      });

      it('hands out copies, never references', async () => {
        const k = key('copies');
        const value = { list: [1, 2], inner: { n: 1 } };
        await store.set(k, value, 60);
        value.list.push(3);
        value.inner.n = 99;
        const read = await store.get<typeof value>(k);
        expect(read).toEqual({ list: [1, 2], inner: { n: 1 } });
        read!.list.push(4);
        expect(await store.get(k)).toEqual({ list: [1, 2], inner: { n: 1 } });
      });

      it('deletes, and deleting a missing key is fine', async () => {
        const k = key('delete');
        await store.set(k, 1, 60);
        await store.delete(k);
        expect(await store.get(k)).toBeUndefined();
        await expect(store.delete(key('never'))).resolves.toBeUndefined();
      });
    });

    describe('expiry', () => {
      it('forgets a value once its time to live has passed', async () => {
        const k = key('expiry');
        await store.set(k, { v: 1 }, 1);
        expect(await store.get(k)).toEqual({ v: 1 });
        await sleep(1200);
        expect(await store.get(k)).toBeUndefined();
        expect(await store.take(k)).toBeUndefined();
        expect(await store.ttl(k)).toBeUndefined();
      });

      it('reports the seconds left, rounded up, and undefined for unknown keys', async () => {
        const k = key('ttl');
        await store.set(k, 'x', 30);
        const ttl = await store.ttl(k);
        expect(ttl).toBeGreaterThanOrEqual(29);
        expect(ttl).toBeLessThanOrEqual(30);
        expect(await store.ttl(key('missing'))).toBeUndefined();
      });
    });

    describe('setIfAbsent', () => {
      it('sets only when absent and tells whether this call created it', async () => {
        const k = key('once');
        expect(await store.setIfAbsent(k, 'first', 60)).toBe(true);
        expect(await store.setIfAbsent(k, 'second', 60)).toBe(false);
        expect(await store.get(k)).toBe('first');
      });

      it('lets exactly one of 20 concurrent callers win, and keeps the winner\'s value', async () => {
        const k = key('race');
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.setIfAbsent(k, { by: i }, 60)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.get(k)).toEqual({ by: results.indexOf(true) });
      });

      it('works again once the previous value expired', async () => {
        const k = key('reuse');
        expect(await store.setIfAbsent(k, 1, 1)).toBe(true);
        await sleep(1200);
        expect(await store.setIfAbsent(k, 2, 60)).toBe(true);
        expect(await store.get(k)).toBe(2);
      });
    });

    describe('take', () => {
      it('returns the value once and removes it', async () => {
        const k = key('take');
        await store.set(k, { code: 'abc' }, 60);
        expect(await store.take(k)).toEqual({ code: 'abc' });
        expect(await store.take(k)).toBeUndefined();
        expect(await store.get(k)).toBeUndefined();
      });

      it('gives the value to exactly one of 20 concurrent callers', async () => {
        const k = key('take-race');
        await store.set(k, { code: 'only-once' }, 60);
        const results = await Promise.all(Array.from({ length: 20 }, () => store.take(k)));
        expect(results.filter((r) => r !== undefined)).toEqual([{ code: 'only-once' }]);
      });
    });

    describe('increment', () => {
      it('counts from 1', async () => {
        const k = key('count');
        expect(await store.increment(k, 60)).toBe(1);
        expect(await store.increment(k, 60)).toBe(2);
        expect(await store.increment(k, 60)).toBe(3);
      });

      it('loses no increments under concurrency', async () => {
        const k = key('count-race');
        const results = await Promise.all(Array.from({ length: 20 }, () => store.increment(k, 60)));
        expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      });

      it('uses a fixed window: later increments do not extend the time to live', async () => {
        const k = key('window');
        expect(await store.increment(k, 1)).toBe(1);
        await sleep(600);
        expect(await store.increment(k, 1)).toBe(2);
        expect(await store.ttl(k)).toBeLessThanOrEqual(1);
        await sleep(600);
        // 1.2 s after creation: the window set by the first increment is over.
        expect(await store.increment(k, 1)).toBe(1);
      });

      it('is only ever as long as the window it was created with', async () => {
        const k = key('window-ttl');
        await store.increment(k, 10);
        await store.increment(k, 600);
        expect(await store.ttl(k)).toBeLessThanOrEqual(10);
        expect(await store.ttl(k)).toBeGreaterThan(0);
      });
    });

    describe('claimThenIncrement', () => {
      it('claims the key and counts each counter, in order', async () => {
        const [claim, a, b] = [key('claim'), key('claim-a'), key('claim-b')];
        await store.increment(b, 60);
        expect(await store.claimThenIncrement(claim, { by: 'first' }, 30, [{ key: a, ttlSeconds: 60 }, { key: b, ttlSeconds: 60 }])).toEqual([1, 2]);
        expect(await store.get(claim)).toEqual({ by: 'first' });
        expect(await store.ttl(claim)).toBeLessThanOrEqual(30);
        expect(await store.ttl(a)).toBeGreaterThan(55);
      });

      it('moves no counter when the key is already claimed', async () => {
        const [claim, counter] = [key('claimed'), key('claimed-counter')];
        await store.setIfAbsent(claim, 'earlier', 60);
        expect(await store.claimThenIncrement(claim, 'later', 60, [{ key: counter, ttlSeconds: 60 }])).toBeUndefined();
        expect(await store.get(claim)).toBe('earlier');
        expect(await store.get(counter)).toBeUndefined();
      });

      it('lets exactly one of 20 concurrent callers claim, and counts only that one', async () => {
        const [claim, counter] = [key('claim-race'), key('claim-race-counter')];
        const results = await Promise.all(Array.from({ length: 20 }, () => store.claimThenIncrement(claim, 1, 60, [{ key: counter, ttlSeconds: 60 }])));
        expect(results.filter((r) => r !== undefined)).toEqual([[1]]);
        expect(await store.get(counter)).toBe(1);
      });

      it('keeps each counter\'s fixed window, and claims again once the claim expired', async () => {
        const [claim, counter] = [key('claim-expiry'), key('claim-expiry-counter')];
        await store.increment(counter, 10);
        expect(await store.claimThenIncrement(claim, 1, 1, [{ key: counter, ttlSeconds: 600 }])).toEqual([2]);
        expect(await store.ttl(counter)).toBeLessThanOrEqual(10);
        await sleep(1200);
        expect(await store.claimThenIncrement(claim, 1, 1, [{ key: counter, ttlSeconds: 600 }])).toEqual([3]);
      });

      it('claims without counters', async () => {
        const claim = key('claim-only');
        expect(await store.claimThenIncrement(claim, 'x', 60, [])).toEqual([]);
        expect(await store.claimThenIncrement(claim, 'y', 60, [])).toBeUndefined();
      });
    });

    describe('takeIfMatches', () => {
      const subject = () => ({ record: key('secret'), tries: { key: key('secret-tries'), ttlSeconds: 60 } });

      it('takes the record when the field matches, and drops its try counter', async () => {
        const { record, tries } = subject();
        await store.set(record, { hash: 'right', accountIds: ['a'] }, 60);
        expect(await store.takeIfMatches(record, tries, 5, 'hash', 'right')).toEqual({ tries: 1, record: { hash: 'right', accountIds: ['a'] }, taken: true });
        expect(await store.get(record)).toBeUndefined();
        expect(await store.get(tries.key)).toBeUndefined();
      });

      it('counts a wrong try and leaves the record', async () => {
        const { record, tries } = subject();
        await store.set(record, { hash: 'right' }, 60);
        expect(await store.takeIfMatches(record, tries, 5, 'hash', 'wrong')).toEqual({ tries: 1, record: { hash: 'right' }, taken: false });
        expect(await store.takeIfMatches(record, tries, 5, 'hash', 'wrong')).toMatchObject({ tries: 2, taken: false });
        expect(await store.get(record)).toEqual({ hash: 'right' });
        expect(await store.ttl(tries.key)).toBeGreaterThan(55);
      });

      it('deletes the record once the tries are used up, even for the right value', async () => {
        const { record, tries } = subject();
        await store.set(record, { hash: 'right' }, 60);
        for (let i = 1; i <= 2; i++) expect(await store.takeIfMatches(record, tries, 2, 'hash', 'wrong')).toMatchObject({ tries: i, taken: false });
        expect(await store.takeIfMatches(record, tries, 2, 'hash', 'right')).toEqual({ tries: 3, taken: false });
        expect(await store.get(record)).toBeUndefined();
      });

      it('finds nothing for a missing record, and never matches a record without the field', async () => {
        const { record, tries } = subject();
        expect(await store.takeIfMatches(record, tries, 5, 'hash', 'right')).toEqual({ tries: 1, taken: false });
        await store.set(record, { other: 'right' }, 60);
        expect(await store.takeIfMatches(record, tries, 5, 'hash', 'right')).toEqual({ tries: 2, record: { other: 'right' }, taken: false });
        await store.set(record, 'right', 60);
        expect(await store.takeIfMatches(record, tries, 5, 'hash', 'right')).toMatchObject({ taken: false });
      });

      it('lets exactly one of 10 concurrent matching tries take it', async () => {
        const { record, tries } = subject();
        await store.set(record, { hash: 'right' }, 60);
        const results = await Promise.all(Array.from({ length: 10 }, () => store.takeIfMatches(record, tries, 20, 'hash', 'right')));
        expect(results.filter((r) => r.taken)).toHaveLength(1);
      });
    });
  });
}
