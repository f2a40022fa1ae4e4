'use strict';
const { spawn } = require('child_process');
const { binary } = require('./binary');

/** Runs the binary with this process's arguments, passing signals on; exits as it does. */
function launch(name) {
  let bin;
  try {
    bin = binary(name);
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}

module.exports = { launch };
