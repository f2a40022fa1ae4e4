#!/usr/bin/env node
'use strict';
// The `conformance` command: runs the platform package's binary with these arguments.
require('../lib/launch').launch('conformance');
