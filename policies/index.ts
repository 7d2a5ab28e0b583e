// Entry point of the jumpgate-guardrails policy pack: `pulumi preview --policy-pack policies`.
// The policies live in rules/, one per file; pack.ts lists them.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, packArgs } from "./pack";

new PolicyPack(PACK_NAME, packArgs);
