// @rill/cli: the `rill` command line (run) and the figure helpers it draws with (writeFigure, for examples and scripts).
/**
 * The `rill` command line as a function, and the PNG figures it draws (SVG charts rendered by resvg).
 *
 * @module @rill/cli
 */
export { run } from './main.js';
export { writeFigure } from './figure.js';
export { svgToPng } from './plot/png.js';
export type { Chart, Layer } from './plot/svg.js';
