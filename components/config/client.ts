// The operator's side: the SSH client config jumpgate hands out.
import { defaultIdentityFile } from "../render/sshConfig";
import { ConfigReader, set } from "./reader";
import { DEFAULTS } from "./types";

/** `controlMaster` and `identityFile` (a path without whitespace, by default one named for the stack). */
export function readSshClient(r: ConfigReader, stack: string): { controlMaster: boolean; identityFile: string } {
    const controlMaster = r.bool("controlMaster", DEFAULTS.controlMaster);
    const identityFile = r.str("identityFile", "") || defaultIdentityFile(stack);
    if (/\s/.test(identityFile)) {
        r.problem(
            "identityFile",
            identityFile,
            "must be a path without whitespace",
            set("identityFile", defaultIdentityFile(stack)),
        );
    }
    return { controlMaster, identityFile };
}
