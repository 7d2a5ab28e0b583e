// Misuse the published types must reject: a number as a host's address, and an output that does not exist.
import { Jumpgate } from "jumpgate";

const gate = new Jumpgate("misuse", { allowedCidrs: ["203.0.113.0/24"], hosts: [{ name: "db", privateIp: 10 }] });
export const nothing = gate.noSuchOutput;
