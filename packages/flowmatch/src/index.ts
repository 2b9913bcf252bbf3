// @rill/flowmatch: conditional flow matching on @rill/autograd (an empty shell until its issue lands).
export const PACKAGE = '@rill/flowmatch';
