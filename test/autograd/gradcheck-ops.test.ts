// Every differentiable op, from one case table: float64 gradcheck, and float32 gradients within rtol 1e-4 of float64.
import { describe, expect, it } from 'vitest';
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import { expectClose } from '../helpers/close.js';
import { randomValues, testRandom } from '../helpers/reference.js';
import { CASES, caseInputs } from './cases.js';

describe('gradcheck of every op (float64, central differences, random cotangent)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const report = A.gradcheck(c.f, caseInputs(c, 'float64'), { name: c.name });
      expect(report.ok, report.message).toBe(true);
      expect(report.mode).toBe('elementwise');
    });
  }
});

describe('float32 gradients agree with float64 ones (rtol 1e-4)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const x32 = caseInputs(c, 'float64').map((x) => T.cast(x, 'float32'));
      const out64 = A.vjp(c.f, ...x32.map((x) => T.cast(x, 'float64'))); // float64 at the float32 inputs
      const cot = randomValues(testRandom(5), out64.value.size);
      const g64 = out64.vjp(T.tensor(cot, { shape: [...out64.value.shape], dtype: 'float64' }));
      const out32 = A.vjp(c.f, ...x32);
      expect(out32.value.dtype).toBe('float32');
      const g32 = out32.vjp(T.tensor(cot, { shape: [...out32.value.shape], dtype: 'float32' }));
      g32.forEach((g, i) => {
        expect(g.dtype).toBe('float32');
        const scale = Math.max(...Array.from(g64[i].data, Math.abs), 1e-3);
        expectClose(g.data, g64[i].data, { rtol: 1e-4, atol: 1e-5 * scale });
      });
    });
  }
});
