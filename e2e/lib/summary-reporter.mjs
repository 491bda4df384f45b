// A node:test reporter that prints only the harness's summary line,
// `e2e: N passed, M failed`, counting tests (a spec file that fails to load
// counts as one failed test), never suites.
export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (event.data.details?.type === 'suite') continue;
    if (event.data.skip || event.data.todo) skipped += 1;
    else if (event.type === 'test:pass') passed += 1;
    else failed += 1;
  }
  const tail = skipped ? `, ${skipped} skipped` : '';
  yield `e2e: ${passed} passed, ${failed} failed${tail}\n`;
}
