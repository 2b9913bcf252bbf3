// One benchmark figure and the table printer shared by the suites.

export interface Row {
  name: string;
  unit: string;
  /** Throughput at the median latency; min / max at the slowest / fastest sample. */
  median: number;
  min: number;
  max: number;
  samples: number;
}

export function printTable(rows: Row[]): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'benchmark'.padEnd(width)}  ${'median'.padStart(9)}  ${'min'.padStart(9)}  ${'max'.padStart(9)}  unit     samples`);
  for (const r of rows) {
    const f = (v: number) => v.toFixed(2).padStart(9);
    console.log(`${r.name.padEnd(width)}  ${f(r.median)}  ${f(r.min)}  ${f(r.max)}  ${r.unit.padEnd(8)} ${r.samples}`);
  }
}
