// A small convolutional classifier for 28 × 28 digits — two 3 × 3 convolutions with 2 × 2 max pooling, a hidden layer
// of 128, ten logits — trained by Rill itself: the referee that scores generated images (class accuracy, and the
// Fréchet distance of its 128-d features).
import * as A from '@rill/autograd';
import { Conv2d, Linear, type InitOptions, type Module, type TensorArg, type Var } from '@rill/autograd';
import * as T from '@rill/tensor';

/** The classifier's shape. */
export interface ClassifierConfig {
  /** Input channels (1 for MNIST). */
  inChannels?: number;
  /** Side of the square input (28 for MNIST); must be divisible by 4. */
  size?: number;
  /** Channels of the two convolutions (default [16, 32]). */
  channels?: [number, number];
  /** Width of the hidden layer, whose activations are the features (default 128). */
  hidden?: number;
  /** Number of classes (default 10). */
  classes?: number;
}

/** x (N, C, S, S) → ten logits; features(x) → the hidden layer's 128 activations. */
export class ConvClassifier implements Module {
  /** The configuration with defaults filled in. */
  readonly config: Required<ClassifierConfig>;
  readonly #conv1: Conv2d;
  readonly #conv2: Conv2d;
  readonly #hidden: Linear;
  readonly #out: Linear;

  constructor(config: ClassifierConfig = {}, options: InitOptions = {}) {
    const { inChannels = 1, size = 28, channels = [16, 32], hidden = 128, classes = 10 } = config;
    if (size % 4 !== 0) throw new T.ValueError('ConvClassifier', `size must be divisible by 4 (two 2 × 2 poolings), got ${size}`);
    this.config = { inChannels, size, channels, hidden, classes };
    const g = { ...options, generator: options.generator ?? T.getGenerator() };
    this.#conv1 = new Conv2d(inChannels, channels[0], 3, { padding: 1 }, g);
    this.#conv2 = new Conv2d(channels[0], channels[1], 3, { padding: 1 }, g);
    this.#hidden = new Linear(channels[1] * (size / 4) ** 2, hidden, g);
    this.#out = new Linear(hidden, classes, g);
  }

  /** The hidden layer's activations (N, hidden): conv → ReLU → pool, twice, flattened, then Linear → ReLU. */
  features(x: TensorArg): Var {
    const h1 = A.maxPool2d(A.relu(this.#conv1.forward(x)));
    const h2 = A.maxPool2d(A.relu(this.#conv2.forward(h1)));
    const flat = A.reshape(h2, [h2.shape[0], -1]);
    return this.#hidden.forward(flat, 'relu');
  }

  /** The logits (N, classes) of features (N, hidden) (the last layer alone). */
  logits(features: TensorArg): Var {
    return this.#out.forward(features);
  }

  /** The logits (N, classes). */
  forward(x: TensorArg): Var {
    return this.logits(this.features(x));
  }

  /** Every parameter, layer by layer. */
  parameters(): Var[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** `conv1.weight`, `conv1.bias`, `conv2.…`, `hidden.…`, `out.…`. */
  namedParameters(): [string, Var][] {
    const layers: [string, Module][] = [['conv1', this.#conv1], ['conv2', this.#conv2], ['hidden', this.#hidden], ['out', this.#out]];
    return layers.flatMap(([name, m]) => m.namedParameters().map(([n, p]) => [`${name}.${n}`, p] as [string, Var]));
  }
}
