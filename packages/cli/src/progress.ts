// Training progress: a live bar on a terminal (step, loss EMA, steps/s, ETA), plain periodic lines otherwise.

export interface Progress {
  update(step: number, loss: number): void;
  done(): void;
}

const clock = (s: number) => (s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${Math.round(s % 60)}s` : `${Math.round(s)}s`);

/** Writes to `out` (stderr): a redrawn bar when it is a TTY, else one line every `every` steps. */
export function progress(total: number, start: number, every: number, out: NodeJS.WriteStream = process.stderr): Progress {
  const t0 = performance.now();
  let emaLoss = NaN;
  let last = 0;
  const line = (step: number) => {
    const elapsed = (performance.now() - t0) / 1000;
    const rate = (step - start) / Math.max(elapsed, 1e-9);
    const eta = (total - step) / Math.max(rate, 1e-9);
    return { rate, eta, text: `loss ${emaLoss.toFixed(4)}  ${rate.toFixed(1)} steps/s  ETA ${clock(eta)}` };
  };
  return {
    update(step, loss) {
      emaLoss = Number.isNaN(emaLoss) ? loss : 0.98 * emaLoss + 0.02 * loss; // smoothed for display
      if (out.isTTY) {
        if (performance.now() - last < 100 && step !== total) return;
        last = performance.now();
        const width = 24;
        const filled = Math.round((width * step) / total);
        out.write(`\r step ${step}/${total} ▕${'█'.repeat(filled)}${'░'.repeat(width - filled)}▏ ${line(step).text}\x1b[K`);
      } else if (step % every === 0 || step === total) {
        out.write(`step ${step}/${total}  ${line(step).text}\n`);
      }
    },
    done() {
      if (out.isTTY) out.write('\n');
    },
  };
}
