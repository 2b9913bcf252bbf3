// Train flow matching on moons in about 30 lines of the library API: the training recipe written out step by step
// (draw data and noise, sample t, regress the conditional velocity, Adam), then sampling by an ODE solver.
// Run: npx pnpm@12.4.2 example moons
import * as F from '@rill/flowmatch';
import * as T from '@rill/tensor';

const g = new T.Generator(0);
const model = new F.MLP({ dim: 2, hidden: [64, 64, 64], activation: 'selu' }, { generator: g }); // u_θ(x, t)
const path = new F.GaussianPath(F.linear(), 0.01); // x_t = t·z + (1 − t)·x0 (+ σ noise), u_t(x|z) = z − x0
const optimizer = new F.Adam(model.parameters(), { lr: 1e-3 });
const steps = Number(process.env.STEPS ?? 2000);

for (let step = 1; step <= steps; step++) {
  const loss = T.tidy(() => {
    const z = F.sampleDataset('moons', 256, { generator: g }); // data (256, 2)
    const x0 = T.randn([256, 2], { generator: g }); // noise (256, 2)
    const t = path.sampleTimes(256, g); // (256, 1), uniform on [0, 1]
    const l = F.cfmLoss(model, path, { z, x0, t }, { generator: g }); // ‖u_θ(x_t, t) − u_t(x_t|z)‖², averaged
    l.backward();
    return l.value.item();
  });
  optimizer.step();
  optimizer.zeroGrad();
  if (step % 500 === 0) console.log(`step ${step}: loss ${loss.toFixed(4)}`);
}

// Sampling: x0 ~ N(0, I), integrate dx/dt = u_θ(x, t) from t = 0 to 1 (dopri5, adaptive), compare with fresh data.
const noise = T.randn([1000, 2], { generator: g });
const { x, nfe } = F.solve(F.fieldOf(model), noise, { method: 'dopri5' });
const fresh = F.sampleDataset('moons', 1000, { generator: g });
console.log(`W2(samples, data) = ${F.wasserstein2(x, fresh).toFixed(3)} after ${nfe} evaluations; W2(noise, data) = ${F.wasserstein2(noise, fresh).toFixed(3)}`);
