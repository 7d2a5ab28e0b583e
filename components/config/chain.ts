// The bastion chain, outermost hop first, and the IAM role names its hops and the stack produce.
import { ConfigReader, ReportProblem, setPath } from "./reader";
import { checkInstanceType } from "./hosts";
import {
    BastionHopSettings,
    ConfigProblem,
    DEFAULTS,
    JumpgateSettings,
    MAX_BASTION_HOPS,
    NAME_PATTERN,
    NAME_RULE,
    TargetSettings,
} from "./types";

/** The raw `bastions` list; read before the network, since a chain of more than one hop adds management subnets. */
export function readRawBastions(r: ConfigReader): unknown {
    return r.json<unknown>("bastions", undefined, setPath("bastions[0].name", "bastion"));
}

/** Whether the raw `bastions` list asks for inner hops (and so for management subnets). */
export function isChain(rawBastions: unknown): boolean {
    return Array.isArray(rawBastions) && rawBastions.length > 1;
}

/** `bastions`: one hop named `bastion` by default; hop names share the SSH alias space with the targets. */
export function readBastions(
    r: ConfigReader,
    rawBastions: unknown,
    bastionInstanceType: string,
    targets: readonly TargetSettings[],
): BastionHopSettings[] {
    if (rawBastions === undefined) return [{ name: "bastion", instanceType: bastionInstanceType }];
    if (!Array.isArray(rawBastions) || rawBastions.length < 1 || rawBastions.length > MAX_BASTION_HOPS) {
        r.problem(
            "bastions",
            JSON.stringify(rawBastions),
            `must be a list of 1 to ${MAX_BASTION_HOPS} hops {name, instanceType}, outermost first`,
            setPath("bastions[0].name", "bastion"),
        );
        return [];
    }
    const bastions: BastionHopSettings[] = [];
    const taken = (name: string) => bastions.some((h) => h.name === name) || targets.some((t) => t.name === name);
    rawBastions.forEach((b: unknown, i) => {
        const hop = readHop(b, i, bastionInstanceType, taken, r.problem);
        if (hop) bastions.push(hop);
    });
    return bastions;
}

/** One `bastions` entry (a name, or `{name, instanceType}`); `taken` says whether an alias is already used. */
function readHop(
    b: unknown,
    i: number,
    bastionInstanceType: string,
    taken: (name: string) => boolean,
    problem: ReportProblem,
): BastionHopSettings | undefined {
    const key = `bastions[${i}]`;
    const entry = (typeof b === "string" ? { name: b } : b) as {
        name?: unknown;
        instanceType?: unknown;
    } | null;
    const name = entry?.name;
    if (typeof name !== "string" || !NAME_PATTERN.test(name) || name.startsWith("tunnel-")) {
        problem(
            `${key}.name`,
            JSON.stringify(name),
            NAME_RULE,
            setPath(`${key}.name`, i === 0 ? "bastion" : `inner-${i}`),
        );
        return undefined;
    }
    if (taken(name)) {
        problem(
            `${key}.name`,
            name,
            "is used by another hop or a target; SSH aliases must be unique",
            setPath(`${key}.name`, `inner-${i}`),
        );
    }
    const instanceType = entry?.instanceType ?? bastionInstanceType;
    if (typeof instanceType !== "string") {
        problem(
            `${key}.instanceType`,
            JSON.stringify(instanceType),
            "must be a string",
            setPath(`${key}.instanceType`, DEFAULTS.bastionInstanceType),
        );
        return undefined;
    }
    checkInstanceType(
        problem,
        `${key}.instanceType`,
        instanceType,
        setPath(`${key}.instanceType`, DEFAULTS.bastionInstanceType),
    );
    return { name, instanceType };
}

/** IAM role names are at most 64 characters; Pulumi appends `-` and 7 random characters to the logical name. */
const MAX_ROLE_LOGICAL_NAME = 64 - 8;

/** Role names come from the stack and hop names (`<stack>-<hop>-role`, `<stack>-flow-logs`; see components/bastion.ts and components/network.ts). */
export function iamNameProblems(s: JumpgateSettings): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const tooLong = (role: string) =>
        `makes the IAM role name ${role}-<7 random characters> ${role.length + 8} characters long; IAM allows 64`;
    s.bastions.forEach((hop, i) => {
        const role = `${s.stack}-${hop.name}-role`;
        if (role.length <= MAX_ROLE_LOGICAL_NAME) return;
        const room = MAX_ROLE_LOGICAL_NAME - `${s.stack}--role`.length;
        const shorter = hop.name.slice(0, room).replace(/-+$/, "");
        const key = `bastions[${i}].name`;
        const fix =
            room >= 2
                ? `pulumi config set --path '${key}' ${shorter}  (or use a shorter stack name)`
                : "use a stack name of at most 40 characters (pulumi stack rename <shorter>)";
        problems.push({ key, value: hop.name, message: tooLong(role), fix });
    });
    const flowLogRole = `${s.stack}-flow-logs`;
    if (s.network.kind === "new" && flowLogRole.length > MAX_ROLE_LOGICAL_NAME) {
        problems.push({
            key: "(stack name)",
            value: s.stack,
            message: tooLong(flowLogRole),
            fix: "use a stack name of at most 46 characters (pulumi stack rename <shorter>)",
        });
    }
    return problems;
}
