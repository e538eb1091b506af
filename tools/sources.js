#!/usr/bin/env node
// Prints the native source list for binding.gyp (CPU-only build): sources.json is the single list
// that both build files read.
'use strict';
const path = require('path');
const lists = require(path.join(__dirname, '..', 'sources.json'));
const which = process.argv[2] || 'gyp';
if (which !== 'gyp') {
  console.error(`unknown list ${which}`);
  process.exit(1);
}
process.stdout.write(lists.cpu.concat(lists.cpuOnly).join(' '));
