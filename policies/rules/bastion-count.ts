// Exactly the expected number of bastions: a second bastion is a second door nobody reviews, and none
// means the targets were left unreachable (or someone is about to open them another way).
import { StackValidationPolicy } from "@pulumi/policy";
import { StackGraph } from "../lib/graph";
import { BASTION, ROLE_TAG } from "../lib/roles";

export interface BastionCountConfig {
    /** How many instances may be tagged as the bastion: the length of the stack's `bastions` chain. */
    expectedBastions?: number;
}

export const bastionCount: StackValidationPolicy = {
    name: "bastion-count",
    description:
        `The stack must have exactly the expected number of bastions (instances tagged ${ROLE_TAG}=${BASTION}, ` +
        "default 1, one per hop of a bastion chain): every extra one is another door to review and patch.",
    enforcementLevel: "mandatory",
    severity: "high",
    configSchema: {
        properties: { expectedBastions: { type: "integer", minimum: 0, default: 1 } },
    },
    validateStack: (args, reportViolation) => {
        const expected = args.getConfig<BastionCountConfig>().expectedBastions ?? 1;
        const bastions = new StackGraph(args.resources).bastions();
        if (bastions.length !== expected) {
            const names = bastions.map((b) => b.name).join(", ");
            reportViolation(
                `expected exactly ${expected} bastion${expected === 1 ? "" : "s"} (instances tagged ` +
                    `${ROLE_TAG}=${BASTION}), found ${bastions.length}${names ? `: ${names}` : ""}.`,
            );
        }
    },
};
