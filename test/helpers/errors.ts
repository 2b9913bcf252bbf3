// Checking error cases: the error a call throws, and a table of calls each expected to throw a ValueError whose message
// starts with a given text.
import * as T from '@rill/tensor';
import { expect, it } from 'vitest';

/** The error `fn` throws (fails the test if it throws nothing). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

/** One test per case: `fn` throws a ValueError whose message starts with `message`. */
export function itThrowsValueErrors(cases: [what: string, fn: () => unknown, message: string][]): void {
  for (const [what, fn, message] of cases) {
    it(what, () => {
      const e = thrown(fn);
      expect(e).toBeInstanceOf(T.ValueError);
      expect(e.message.startsWith(message), `${e.message}\n  does not start with\n${message}`).toBe(true);
    });
  }
}
