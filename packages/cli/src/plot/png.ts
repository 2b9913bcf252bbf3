// Renders the SVG figures to PNG with resvg (Rust's SVG renderer, shipped as a prebuilt binary inside its npm package)
// using the one font this package carries (DejaVu Sans, fonts/), so text renders the same on any machine.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
/** DejaVu Sans (Bitstream Vera licence: fonts/LICENSE), relative to dist/plot/ and src/plot/ alike. */
const FONT = fileURLToPath(new URL('../../fonts/DejaVuSans.ttf', import.meta.url));

/** PNG bytes of an SVG document, at its own pixel size. resvg is loaded on first use, so commands without figures never need it. */
export function svgToPng(svg: string): Uint8Array {
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const resvg = new Resvg(svg, {
    font: { fontFiles: [FONT], loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans' },
    background: 'white',
  });
  return resvg.render().asPng();
}
