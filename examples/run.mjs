// Runs one example by name (after the build): `npx pnpm@12.4.2 example moons`; extra arguments go to the example.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('./dist/', import.meta.url));
const names = readdirSync(fileURLToPath(new URL('.', import.meta.url))).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
const [name, ...rest] = process.argv.slice(2);
if (!name || !names.includes(name) || !existsSync(`${dist}${name}.js`)) {
  console.error(`usage: npx pnpm@12.4.2 example <${names.join('|')}> [arguments]${name ? ` (no example '${name}')` : ''}`);
  process.exit(2);
}
process.exit(spawnSync(process.execPath, [`${dist}${name}.js`, ...rest], { stdio: 'inherit' }).status ?? 1);
