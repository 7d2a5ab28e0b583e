// Tests read and edit an instance's user data whichever way it is sent: as text (`userData`) or, past
// EC2's 16 KiB, gzipped in `userDataBase64` (components/render/userDataSize.ts).
import { gzipSync } from "node:zlib";
import { decodeUserData } from "../../components/render/userDataSize";

/** The document an instance's inputs carry. */
export function userDataOf(inputs: Record<string, unknown>): string {
    return decodeUserData(inputs);
}

/** Replaces the document, keeping the encoding the instance used. */
export function setUserData(inputs: Record<string, unknown>, text: string): void {
    if (typeof inputs.userData === "string" || inputs.userDataBase64 === undefined) inputs.userData = text;
    else inputs.userDataBase64 = gzipSync(Buffer.from(text, "utf8")).toString("base64");
}

/** The input the policy pack names in its messages. */
export function userDataProp(inputs: Record<string, unknown>): "userData" | "userDataBase64" {
    return typeof inputs.userData === "string" ? "userData" : "userDataBase64";
}
