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

/**
 * Python source defining `read_safetensors(path) -> (metadata, {name: ndarray})`: an independent reader of the format
 * (struct + json + NumPy: the 8-byte header length, the JSON header, each tensor's byte range), for tests to prepend.
 */
export const SAFETENSORS_READER = `
import json, struct, numpy as np
def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "the header is padded to 8 bytes"
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    kinds = {"F32": "<f4", "F64": "<f8", "I32": "<i4"}
    tensors = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        tensors[name] = np.frombuffer(raw[8 + n + b:8 + n + end], dtype=kinds[e["dtype"]]).reshape(e["shape"])
    return meta, tensors
`;
