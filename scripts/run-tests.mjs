// Runs vitest over test/ and always ends with one closing line, `tests: N passed, N failed, N skipped`
// (also when tests fail); exits non-zero on any failure, on no tests at all, and on any skipped test.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const report = '.vitest-report.json';
rmSync(report, { force: true });
const args = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', ...args], { stdio: 'inherit' });
if (!existsSync(report)) {
  console.log('tests: 0 passed, 1 failed, 0 skipped (vitest wrote no report)');
  process.exit(run.status || 1);
}
const r = JSON.parse(readFileSync(report, 'utf8'));
const skipped = r.numPendingTests + (r.numTodoTests ?? 0);
const failed = Math.max(r.numFailedTests, r.numFailedTestSuites ?? 0); // a file that fails to load has no failed tests
console.log(`tests: ${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
process.exit(run.status !== 0 || failed > 0 || skipped > 0 || r.numTotalTests === 0 ? 1 : 0);
