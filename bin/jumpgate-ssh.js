#!/usr/bin/env node
// `npx jumpgate-ssh`: runs cli/jumpgate-ssh.ts through tsx (a runtime dependency for this reason).
"use strict";
require("tsx/cjs");
const { main } = require("../cli/jumpgate-ssh.ts");
process.exitCode = main(process.argv.slice(2));
