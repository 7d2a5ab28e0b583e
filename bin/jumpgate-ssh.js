#!/usr/bin/env node
// `npx jumpgate-ssh`: runs cli/jumpgate-ssh.ts through tsx (a runtime dependency for this reason).
"use strict";
require("tsx/cjs");
const { main } = require("../cli/jumpgate-ssh.ts");
// `login` resolves later (it may call AWS KMS); the other commands return their status at once.
Promise.resolve(main(process.argv.slice(2))).then(
    (status) => {
        process.exitCode = status;
    },
    (error) => {
        console.error(error);
        process.exitCode = 1;
    },
);
