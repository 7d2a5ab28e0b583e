// Declared port forwards through the last hop, each to one target's port.
import { ConfigReader, ReportProblem, setPath } from "./reader";
import { DEFAULTS, NAME_PATTERN, NAME_RULE, TargetSettings, TunnelSettings } from "./types";

interface RawTunnel {
    name?: unknown;
    target?: unknown;
    remotePort?: unknown;
    localPort?: unknown;
}

/** `tunnels`: a list of {name, target, remotePort, localPort}; an entry with any problem is left out. */
export function readTunnels(r: ConfigReader, targets: readonly TargetSettings[]): TunnelSettings[] {
    const rawTunnels = r.json<unknown>("tunnels", DEFAULTS.tunnels, setPath("tunnels[0].name", "db"));
    if (!Array.isArray(rawTunnels)) {
        r.problem(
            "tunnels",
            JSON.stringify(rawTunnels),
            "must be a list of {name, target, remotePort, localPort}",
            setPath("tunnels[0].name", "db"),
        );
        return [];
    }
    const tunnels: TunnelSettings[] = [];
    rawTunnels.forEach((t: unknown, i) => {
        const entry = (t ?? {}) as RawTunnel;
        const before = r.problems.length;
        checkTunnel(entry, `tunnels[${i}]`, i, tunnels, targets, r.problem);
        if (r.problems.length === before) {
            tunnels.push({
                name: String(entry.name),
                target: String(entry.target),
                remotePort: Number(entry.remotePort),
                localPort: Number(entry.localPort),
            });
        }
    });
    return tunnels;
}

/** One tunnel: a unique name, an existing target, two ports, and a local port no earlier tunnel uses. */
function checkTunnel(
    entry: RawTunnel,
    key: string,
    i: number,
    earlier: readonly TunnelSettings[],
    targets: readonly TargetSettings[],
    problem: ReportProblem,
): void {
    if (typeof entry.name !== "string" || !NAME_PATTERN.test(entry.name)) {
        problem(`${key}.name`, JSON.stringify(entry.name), NAME_RULE, setPath(`${key}.name`, `tunnel${i + 1}`));
    } else if (earlier.some((x) => x.name === entry.name)) {
        problem(
            `${key}.name`,
            entry.name,
            "is used by another tunnel; names must be unique",
            setPath(`${key}.name`, `${entry.name}-${i + 1}`),
        );
    }
    if (typeof entry.target !== "string" || !targets.some((x) => x.name === entry.target)) {
        problem(
            `${key}.target`,
            JSON.stringify(entry.target),
            `must name a target (${targets.map((x) => x.name).join(", ")})`,
            setPath(`${key}.target`, targets[0]?.name ?? "app-1"),
        );
    }
    for (const port of ["remotePort", "localPort"] as const) {
        const v = entry[port];
        if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535) {
            problem(
                `${key}.${port}`,
                JSON.stringify(v),
                "must be a port number from 1 to 65535",
                setPath(`${key}.${port}`, "5432"),
            );
        }
    }
    if (typeof entry.localPort === "number" && earlier.some((x) => x.localPort === entry.localPort)) {
        problem(
            `${key}.localPort`,
            String(entry.localPort),
            "is used by another tunnel on this machine",
            setPath(`${key}.localPort`, String(entry.localPort + 1)),
        );
    }
}
