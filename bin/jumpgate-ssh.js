#!/usr/bin/env node
// `npx jumpgate-ssh`: in a repository checkout it runs the sources (cli/jumpgate-ssh.ts) through tsx, so
// an edit takes effect at once; the published package has no sources and runs the build in dist/.
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");

const source = join(__dirname, "..", "cli", "jumpgate-ssh.ts");
let cli;
if (existsSync(source)) {
    require("tsx/cjs");
    cli = require(source);
} else {
    cli = require("../dist/cli/jumpgate-ssh.js");
}
// `login` resolves later (it may call AWS KMS); the other commands return their status at once.
Promise.resolve(cli.main(process.argv.slice(2))).then(
    (status) => {
        process.exitCode = status;
    },
    (error) => {
        console.error(error);
        process.exitCode = 1;
    },
);
