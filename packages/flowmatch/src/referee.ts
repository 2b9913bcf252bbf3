// The referee of generated digits: a ConvClassifier trained by Rill on MNIST, stored as a `.rill` file of kind
// `classifier`, and what it measures on a set of images — the labels it gives and the Fréchet distance of its 128-d
// hidden features to a reference set (the FID recipe with MNIST's own classifier).
import * as A from '@rill/autograd';
import * as T from '@rill/tensor';
import type { Tensor } from '@rill/tensor';
import { Adam, loadStateDict, stateDict } from '@rill/autograd';
import { CheckpointError, show, tensorsUnder, type Checkpoint } from './checkpoint.js';
import { checkTensors, plain } from './architecture.js';
import { ConvClassifier, type ClassifierConfig } from './classifier.js';

/** How the referee is trained: Adam on the cross-entropy, batches drawn with replacement from one generator. */
export interface RefereeTraining {
  /** Adam steps (default 1500: about 3 epochs at batch 128). */
  steps?: number;
  /** Batch size (default 128). */
  batch?: number;
  /** Learning rate (default 1e-3), decayed by cosine to 0 over the steps. */
  lr?: number;
  /** Seed of the initialisation and the batches (default 0). */
  seed?: number;
  /** Called after every step with its number and loss (progress). */
  onStep?: (step: number, loss: number) => void;
}

/** Images as the classifier takes them: (n, 784) rows or (n, 1, 28, 28). */
const asImages = (x: Tensor, side: number) => (x.rank === 2 ? T.reshape(x, [x.shape[0], 1, side, side]) : x);

/** Trains a ConvClassifier on images (n, 784 or 1×28×28, in [−1, 1]) and their int32 labels. */
export function trainReferee(images: Tensor, labels: Tensor, options: RefereeTraining = {}, config: ClassifierConfig = {}): ConvClassifier {
  const { steps = 1500, batch = 128, lr = 1e-3, seed = 0, onStep } = options;
  const g = new T.Generator(seed);
  const model = new ConvClassifier(config, { generator: g });
  const side = model.config.size;
  const opt = new Adam(model.parameters(), { lr });
  const n = images.shape[0];
  for (let step = 0; step < steps; step++) {
    const rows = Array.from({ length: batch }, () => g.int(0, n));
    const loss = T.tidy(() => {
      const x = asImages(T.gather(images, rows), side);
      const y = Int32Array.from(rows, (r) => labels.data[r]);
      const l = A.crossEntropy(model.forward(x), y);
      l.backward();
      return l.value.item();
    });
    opt.lr = (lr * (1 + Math.cos((Math.PI * step) / steps))) / 2; // cosine decay to 0
    opt.step();
    opt.zeroGrad();
    onStep?.(step + 1, loss);
  }
  return model;
}

/** What the referee says of a set of images. */
export interface Classified {
  /** The most likely class of each image (the argmax of its logits). */
  labels: Int32Array;
  /** The hidden layer's activations, (n, 128): what the Fréchet distance compares. */
  features: Tensor;
}

/** The classifier's labels (argmax of the logits) and 128-d features of images, `chunk` rows at a time. */
export function classify(model: ConvClassifier, images: Tensor, chunk = 500): Classified {
  const n = images.shape[0];
  const labels = new Int32Array(n);
  const parts: Tensor[] = [];
  A.noGrad(() => {
    for (let from = 0; from < n; from += chunk) {
      const rows = Math.min(chunk, n - from);
      parts.push(
        T.tidy(() => {
          const h = model.features(asImages(T.slice(images, [from], [from + rows]), model.config.size));
          const logits = model.logits(h).value.data;
          const k = model.config.classes;
          for (let i = 0; i < rows; i++) {
            let best = 0;
            for (let j = 1; j < k; j++) if (logits[i * k + j] > logits[i * k + best]) best = j;
            labels[from + i] = best;
          }
          return T.keep(h.value);
        }),
      );
    }
  });
  const features = T.concat(parts, 0);
  T.dispose(parts);
  return { labels, features };
}

/** The fraction of `labels` equal to `want` (one label for all, or one per row). */
export function accuracy(labels: ArrayLike<number>, want: number | ArrayLike<number>): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === (typeof want === 'number' ? want : want[i])) hits++;
  return hits / labels.length;
}

/** A trained referee as a checkpoint of kind `classifier` (its config and weights; `meta` e.g. its test accuracy). */
export function refereeCheckpoint(model: ConvClassifier, meta: Record<string, unknown> = {}): Checkpoint {
  const tensors = Object.fromEntries(Object.entries(stateDict(model)).map(([n, t]) => [`model.${n}`, t]));
  return { kind: 'classifier', config: { ...model.config } as unknown as Record<string, unknown>, step: 0, tensors, meta };
}

/** The referee in a checkpoint, its tensors checked against its config first (errors name the file). */
export function refereeFromCheckpoint(ckpt: Checkpoint): ConvClassifier {
  const source = ckpt.source ?? 'checkpoint';
  if (ckpt.kind !== 'classifier') throw new CheckpointError(source, `holds a '${plain(ckpt.kind)}' model, not a classifier`);
  const c = ckpt.config as Required<ClassifierConfig>;
  const int = (v: unknown, name: string) => {
    if (!(Number.isSafeInteger(v) && (v as number) >= 1 && (v as number) <= 4096)) throw new CheckpointError(source, `config.${name} must be an integer in [1, 4096], got ${show(v)}`);
    return v as number;
  };
  const [inC, size, hidden, classes] = [int(c.inChannels, 'inChannels'), int(c.size, 'size'), int(c.hidden, 'hidden'), int(c.classes, 'classes')];
  if (size % 4 !== 0) throw new CheckpointError(source, `config.size must be divisible by 4, got ${size}`);
  if (!Array.isArray(c.channels) || c.channels.length !== 2) throw new CheckpointError(source, `config.channels must be two integers, got ${show(c.channels)}`);
  const [c1, c2] = [int(c.channels[0], 'channels[0]'), int(c.channels[1], 'channels[1]')];
  const f32 = ['float32'] as const;
  const specs = [
    ['conv1.weight', [c1, inC, 3, 3]], ['conv1.bias', [c1]], ['conv2.weight', [c2, c1, 3, 3]], ['conv2.bias', [c2]],
    ['hidden.weight', [c2 * (size / 4) ** 2, hidden]], ['hidden.bias', [hidden]], ['out.weight', [hidden, classes]], ['out.bias', [classes]],
  ] as const;
  checkTensors(ckpt, { tensors: specs.map(([name, shape]) => ({ name, shape: [...shape], dtypes: f32 })), unstoredBytes: 0 });
  const model = new ConvClassifier({ inChannels: inC, size, hidden, classes, channels: [c1, c2] }, { generator: new T.Generator(0) });
  loadStateDict(model, tensorsUnder(ckpt, 'model.'));
  return model;
}
