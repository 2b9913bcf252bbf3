// @rill/autograd: reverse-mode automatic differentiation on @rill/tensor (an empty shell until its issue lands).
export const PACKAGE = '@rill/autograd';
