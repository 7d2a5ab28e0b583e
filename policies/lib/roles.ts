// How jumpgate marks its hosts: every instance carries `jumpgate:role` = `bastion` or `target`
// (components/bastion.ts, components/targets.ts). Policies treat every instance that is not tagged as
// the bastion as a target, so leaving the tag off never exempts a host.
import { tagsOf } from "./props";

export const ROLE_TAG = "jumpgate:role";
export const BASTION = "bastion";

export function isBastion(props: unknown): boolean {
    return tagsOf(props)[ROLE_TAG] === BASTION;
}

/** `jumpgate:role=<value>` or `no jumpgate:role tag`, for messages. */
export function describeRole(props: unknown): string {
    const role = tagsOf(props)[ROLE_TAG];
    return role === undefined ? `no ${ROLE_TAG} tag` : `${ROLE_TAG}=${role}`;
}
