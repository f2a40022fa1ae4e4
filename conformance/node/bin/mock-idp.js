#!/usr/bin/env node
'use strict';
// The `mock-idp` command: runs the platform package's binary with these arguments.
require('../lib/launch').launch('mock-idp');
