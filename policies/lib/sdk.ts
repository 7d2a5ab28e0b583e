// Typed handles on two exports of @pulumi/policy whose declarations the package strips (they are
// marked @internal in proxy.d.ts, so TypeScript sees them as `any`): the proxy that makes reading an
// unknown value throw during preview, and the error it throws.
import * as policySdk from "@pulumi/policy";

interface UnknownValueErrorClass {
    new (unknownTypeSentinel: string, props: string[]): Error & { props: string[] };
}

const sdk = policySdk as unknown as {
    unknownCheckingProxy: <T extends object>(toProxy: T) => T;
    UnknownValueError: UnknownValueErrorClass;
};

/** Wraps resource properties so that reading an unknown value throws UnknownValueError. */
export const unknownCheckingProxy: <T extends object>(toProxy: T) => T = sdk.unknownCheckingProxy;
/** Thrown on reading a value that is unknown during preview; the SDK turns it into an advisory. */
export const UnknownValueError: UnknownValueErrorClass = sdk.UnknownValueError;
