// Child process for the fallback test: initGpu without a display, then what the active backend is.
import * as T from '../../packages/tensor/dist/index.js';
import { initGpu } from '../../packages/tensor/dist/gpu/index.js';

try {
  const info = await initGpu();
  T.setBackend('gpu'); // falls back to the CPU after the warning
  console.log(`${info} ${T.getBackend().name} ${T.zeros([1]).device}`);
} catch (e) {
  console.log(`${e.name} ${e.message}`);
  process.exit(3);
}
