// Loaded with `node --import` into an `lnps serve` started by a test: on SIGUSR2 it throws an
// exception nothing catches, the way a bug would, so the test can see what a fatal error does.
// Imported on its own (as a test file) it only installs the handler.
process.on('SIGUSR2', () => {
  setImmediate(() => {
    throw new Error('injected fault');
  });
});
