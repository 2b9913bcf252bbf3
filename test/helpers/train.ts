// A training loop for tests: `steps` Adam steps, each `loss()` built in a tidy scope and backpropagated; the losses.
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';

export function trainLosses(params: A.Var[], steps: number, lr: number, loss: (step: number) => A.Var): number[] {
  const opt = new A.Adam(params, { lr });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    T.tidy(() => {
      const l = loss(step);
      l.backward();
      losses.push(l.value.item());
    });
    opt.step();
    opt.zeroGrad();
  }
  return losses;
}

/** The mean of some numbers. */
export const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
