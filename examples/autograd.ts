// Autograd in 20 lines: f(x, w) = Σ tanh(x·w), its gradient by backward(), checked against the derivative worked out by
// hand and against central differences (gradcheck). Run: npx pnpm@12.4.2 example autograd
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';

const x = T.tensor([[1, 2], [0.5, -1], [-2, 0.3]], { dtype: 'float64' }); // (3, 2): data, no gradient
const w = new A.Var(T.tensor([[0.4], [-0.7]], { dtype: 'float64' }), { requiresGrad: true }); // (2, 1): a weight
const f = A.sum(A.tanh(A.matmul(x, w))); // records the graph: matmul → tanh → sum
f.backward(); // walks it backwards: w.grad = ∂f/∂w

// By hand: ∂f/∂w = xᵀ · (1 − tanh²(x·w)), the chain rule through sum, tanh and matmul
const byHand = T.matmul(x, T.sub(1, T.square(T.tanh(T.matmul(x, w.value)))), { transA: true });
const difference = Math.max(...Array.from(w.grad!.data, (g, i) => Math.abs(g - byHand.data[i])));
console.log(`f(x, w)            = ${f.value.item().toFixed(6)}`);
console.log(`∂f/∂w by backward  = [${Array.from(w.grad!.data, (v) => v.toFixed(6))}]`);
console.log(`∂f/∂w by hand      = [${Array.from(byHand.data, (v) => v.toFixed(6))}]`);
console.log(`largest difference = ${difference.toExponential(2)}`);
// gradcheck: central differences in float64 against the engine's vector-Jacobian products, for a random cotangent c
// (the scalar ⟨c, f⟩, so the numbers it reports are not the gradient printed above), for every input element
const report = A.gradcheck((xs, ws) => A.sum(A.tanh(A.matmul(xs, ws))), [x, w.value], { raise: false });
console.log(`gradcheck: ${report.message}`);
