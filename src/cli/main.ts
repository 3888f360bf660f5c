#!/usr/bin/env node
console.log('ebs-sim: not yet');
