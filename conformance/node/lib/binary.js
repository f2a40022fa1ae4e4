'use strict';
// Where the commands are: $SSO_HARNESS_BIN_DIR (a cargo build's target/debug), else the
// platform package npm installed beside this one (@sso-harness/<platform>-<arch>).
const fs = require('fs');
const path = require('path');

function binary(name) {
  const exe = process.platform === 'win32' ? `${name}.exe` : name;
  const dir = process.env.SSO_HARNESS_BIN_DIR;
  if (dir && fs.existsSync(path.join(dir, exe))) return path.join(dir, exe);
  const pkg = `@sso-harness/${process.platform}-${process.arch}`;
  try {
    return require.resolve(`${pkg}/bin/${exe}`);
  } catch (e) {
    throw new Error(
      `${name}: no binary for ${process.platform}-${process.arch}: the package ${pkg} is not installed ` +
        '(npm installs it with sso-harness where one is published; or set SSO_HARNESS_BIN_DIR)'
    );
  }
}

module.exports = { binary };
