// The Python the tests use as an independent reference (NumPy reading and writing files): the first of $RILL_PYTHON,
// `python3` on the PATH and Debian's /usr/bin/python3 that imports numpy. scripts/setup.sh installs python3-numpy
// when none does; a test that needs it fails (never skips) without it.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

let found: string | undefined;

/** The interpreter: the first candidate that imports numpy. */
export function numpyPython(): string {
  if (found) return found;
  const candidates = [process.env.RILL_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  found = candidates.find((py) => spawnSync(py, ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0);
  if (!found) throw new Error(`no Python with numpy (tried ${candidates.join(', ')}): install python3-numpy (scripts/setup.sh does)`);
  return found;
}

/** Runs `python -c program` with that interpreter. */
export function python(program: string, args: string[] = []): SpawnSyncReturns<string> {
  return spawnSync(numpyPython(), ['-c', program, ...args], { encoding: 'utf8', timeout: 60_000 });
}
