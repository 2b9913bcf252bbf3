// The `rill` command line: parse the command and its flags, run it, and turn user errors into one line and exit code 2.
import * as T from '@rill/tensor';
import { RillError } from '@rill/tensor';
import { exportModel, EXPORT_FLAGS, importModel, IMPORT_FLAGS } from './convert.js';
import { evaluate, EVAL_FLAGS } from './eval.js';
import { helpText, parseFlags, UsageError, type Flag, type Values } from './flags.js';
import { logprob, LOGPROB_FLAGS } from './logprob.js';
import { checkOutputs } from './outputs.js';
import { referee, REFEREE_FLAGS } from './referee.js';
import { sample, SAMPLE_FLAGS } from './sample.js';
import { solvers, SOLVERS_FLAGS } from './solvers.js';
import { train, TRAIN_FLAGS } from './train.js';

interface Command {
  summary: string;
  flags: Flag[];
  run(values: Values): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  train: { summary: 'train a flow-matching model (or a normalizing flow: --kind flow) on a dataset or a CSV file', flags: TRAIN_FLAGS, run: train },
  sample: { summary: 'draw samples from a model (and draw figures)', flags: SAMPLE_FLAGS, run: sample },
  eval: { summary: 'W2, MMD² and energy distance against fresh data, the data-vs-data floor, NFE per solver (images: referee accuracy and FD)', flags: EVAL_FLAGS, run: evaluate },
  logprob: { summary: 'log-densities of points under a model (and a density heat map)', flags: LOGPROB_FLAGS, run: logprob },
  solvers: { summary: 'every ODE solver at several NFE budgets: error against a tight solution and W2 (and a figure)', flags: SOLVERS_FLAGS, run: solvers },
  referee: { summary: 'train the MNIST classifier that scores generated digits (rill eval --data mnist) and save it', flags: REFEREE_FLAGS, run: referee },
  export: { summary: "write a model's weights as a safetensors file in torchcfm's MLP layout", flags: EXPORT_FLAGS, run: exportModel },
  import: { summary: 'a .rill model from a safetensors file of torchcfm\'s MLP (e.g. trained in PyTorch)', flags: IMPORT_FLAGS, run: importModel },
};

const USAGE = [
  'rill — conditional flow matching from the command line',
  '',
  'Usage: rill <command> [flags]',
  '',
  ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)}${c.summary}`),
  '',
  'rill <command> --help lists every flag with its default.',
  'Example: rill train --data moons --steps 5000 --out moons.rill && rill sample --model moons.rill --png samples.png',
].join('\n');

/** Runs rill with the given arguments; returns the exit code (0 ok, 2 bad usage or input, 130 interrupted). */
export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(`${USAGE}\n`); // called with nothing: the usage, as an error
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (!command) throw new UsageError(`rill: unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(', ')}; see rill --help)`);
    if (rest.includes('--help') || rest.includes('-h')) {
      console.log(helpText(name, command.summary, command.flags));
      return 0;
    }
    const values = parseFlags(name, command.flags, rest);
    // Every output checked before any work: writable, not a folder, not an input or another output.
    checkOutputs(name, command.flags, values);
    // `cpu`, the fastest CPU backend on every core, as in the library; `train` starts the one its --backend names.
    if (!command.flags.some((f) => f.name === 'backend')) await T.ready({ backend: 'cpu' });
    return await command.run(values);
  } catch (e) {
    // Mistakes in the call or the input files: one line, no stack trace. Anything else is a bug: show it all.
    if (e instanceof UsageError) process.stderr.write(`${e.message}\n`);
    else if (e instanceof RillError) process.stderr.write(`rill ${name}: ${e.message}\n`);
    else throw e;
    return 2;
  }
}
