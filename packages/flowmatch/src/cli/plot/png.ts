// Renders the SVG figures to PNG with resvg (Rust's SVG renderer, shipped as a prebuilt binary inside its npm package)
// using the DejaVu Sans font from the dejavu-fonts-ttf package, so text renders the same on any machine.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** PNG bytes of an SVG document, at its own pixel size. resvg is loaded on first use, so commands without figures never need it. */
export function svgToPng(svg: string): Uint8Array {
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const fontDir = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  const FONTS = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => join(fontDir, f));
  const resvg = new Resvg(svg, {
    font: { fontFiles: FONTS, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return resvg.render().asPng();
}
