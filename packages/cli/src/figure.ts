// Figures as PNG files: charts laid out side by side as SVG (plot/svg.ts), rendered by resvg (plot/png.ts).
import { writeFileAtomic } from '@rill/flowmatch/node';
import { svgToPng } from './plot/png.js';
import { figure, type Chart } from './plot/svg.js';

/**
 * Renders charts side by side (`columns` to a row, default all), each w × h pixels (default 480 × 440), to a PNG file
 * (atomically): the figures of the CLI and the examples. A Chart has a title, axis labels and layers (scatter, line,
 * paths, arrows, heatmap); returns the pixel size.
 */
export function writeFigure(
  path: string,
  charts: Chart[],
  w?: number,
  h?: number,
  columns?: number,
): {
  /** Pixels across: w × the number of columns. */
  width: number;
  /** Pixels down: h × the number of rows. */
  height: number;
} {
  const fig = figure(charts, w, h, columns);
  writeFileAtomic(path, svgToPng(fig.svg));
  return { width: fig.width, height: fig.height };
}
