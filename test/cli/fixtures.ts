// The installer's input: the program's real outputs, planned offline, in the JSON shape of
// `pulumi stack output --json --show-secrets` (secrets in clear, as --show-secrets prints them).
import { plan } from "../helpers/program";
import { ed25519PublicKey } from "./home";

export interface Fixtures {
    /** Stack dev: one bastion, targets app-1 and db-1, generated key. */
    dev: Record<string, unknown>;
    /** Stack byo: the operator's own key (no privateKeyOpenssh), IdentityFile ~/.ssh/id_ed25519. */
    byo: Record<string, unknown>;
    /** Stack prod: bastions edge then mgmt, targets app-1 and db-1, a tunnel pg to db-1:5432. */
    chain: Record<string, unknown>;
    /**
     * Stack team: operators alice (admin) and bob (role dba: db-* only, sudo), targets app-1 and db-1,
     * a tunnel pg to db-1:5432; the stack user CA (its private key in clear, as --show-secrets prints it).
     */
    team: Record<string, unknown>;
}

const targets = [{ name: "app-1" }, { name: "db-1" }];

export async function fixtures(): Promise<Fixtures> {
    const dev = (await plan({ "jumpgate:targets": targets }, "dev")).outputs;
    const byo = (
        await plan(
            {
                "jumpgate:targets": targets,
                "jumpgate:operatorPublicKeys": [ed25519PublicKey()],
                "jumpgate:identityFile": "~/.ssh/id_ed25519",
            },
            "byo",
        )
    ).outputs;
    const chain = (
        await plan(
            {
                "jumpgate:bastions": [{ name: "edge" }, { name: "mgmt" }],
                "jumpgate:targets": targets,
                "jumpgate:tunnels": [{ name: "pg", target: "db-1", remotePort: 5432, localPort: 15432 }],
            },
            "prod",
        )
    ).outputs;
    const team = (
        await plan(
            {
                "jumpgate:targets": targets,
                "jumpgate:tunnels": [{ name: "pg", target: "db-1", remotePort: 5432, localPort: 15432 }],
                "jumpgate:userCa": "stack",
                "jumpgate:roles": [{ name: "dba", sudo: true, targets: ["db-*"] }],
                "jumpgate:operators": [
                    { name: "alice", role: "admin", publicKeys: [ed25519PublicKey("alice@laptop")] },
                    { name: "bob", role: "dba", publicKeys: [ed25519PublicKey("bob@laptop")] },
                ],
            },
            "team",
        )
    ).outputs;
    return { dev, byo, chain, team };
}

export const json = (outputs: Record<string, unknown>) => `${JSON.stringify(outputs, null, 2)}\n`;
