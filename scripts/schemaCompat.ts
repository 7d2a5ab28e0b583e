// Which changes between two Pulumi package schemas break programs written against the older one, in
// any language: SDKs generated from the new schema must still accept every program the old one did and
// still hand back what it read. Pure: works on the parsed schema JSON only.

/** A property as Pulumi's schema describes it (only what compatibility depends on). */
export interface SchemaProperty {
    type?: string;
    $ref?: string;
    items?: SchemaProperty;
    additionalProperties?: SchemaProperty;
    plain?: boolean;
}

/** A resource or a type: object properties (a type), inputs and outputs (a resource), or enum values. */
export interface SchemaObject {
    type?: string;
    properties?: Record<string, SchemaProperty>;
    required?: string[];
    inputProperties?: Record<string, SchemaProperty>;
    requiredInputs?: string[];
    enum?: { name?: string; value: string | number }[];
}

export interface PackageSchema {
    name: string;
    version?: string;
    resources?: Record<string, SchemaObject>;
    types?: Record<string, SchemaObject>;
}

export type SchemaChangeKind =
    | "removed-resource"
    | "removed-input"
    | "removed-output"
    | "changed-type"
    | "new-required-input"
    | "output-now-optional"
    | "became-plain"
    | "became-input"
    | "removed-enum-value";

/** One incompatible change, at a path like `Jumpgate.allowedCidrs` or `NetworkArgs.vpcId`. */
export interface SchemaChange {
    kind: SchemaChangeKind;
    path: string;
    message: string;
}

type Role = "input" | "output";

/** A property's type as SDKs see it: `string`, `array<#/types/...>`, `map<number>`. */
function typeSignature(p: SchemaProperty | undefined): string {
    if (p === undefined) return "none";
    if (p.$ref !== undefined) return p.$ref;
    if (p.type === "array") return `array<${typeSignature(p.items)}>`;
    if (p.type === "object" && p.additionalProperties !== undefined)
        return `map<${typeSignature(p.additionalProperties)}>`;
    return p.type ?? "none";
}

/** Plainness of the property and of its array items or map values, outermost first. */
function plainness(p: SchemaProperty | undefined, path: string): { path: string; plain: boolean }[] {
    if (p === undefined) return [];
    const inner = p.items ?? p.additionalProperties;
    const innerPath = p.items !== undefined ? `${path}[]` : `${path}{}`;
    return [{ path, plain: p.plain === true }, ...plainness(inner, innerPath)];
}

const shortName = (token: string) => token.split(":").pop() ?? token;

function compareProperty(path: string, role: Role, before: SchemaProperty, after: SchemaProperty): SchemaChange[] {
    const was = typeSignature(before);
    const is = typeSignature(after);
    if (was !== is) return [{ kind: "changed-type", path, message: `${role} ${path} changed type: ${was} -> ${is}` }];
    if (role === "output") return [];
    const plainAfter = new Map(plainness(after, path).map((p) => [p.path, p.plain]));
    return plainness(before, path).flatMap((p): SchemaChange[] => {
        const now = plainAfter.get(p.path);
        if (now === undefined || now === p.plain) return [];
        return now
            ? [
                  {
                      kind: "became-plain",
                      path: p.path,
                      message: `input ${p.path} became plain: an Output no longer fits`,
                  },
              ]
            : [
                  {
                      kind: "became-input",
                      path: p.path,
                      message: `input ${p.path} became an Input: its SDK type changes`,
                  },
              ];
    });
}

/** Properties of one object in the given role: removed, retyped, newly required or no longer always set. */
function compareProperties(
    owner: string,
    role: Role,
    before: { properties?: Record<string, SchemaProperty>; required?: string[] },
    after: { properties?: Record<string, SchemaProperty>; required?: string[] },
): SchemaChange[] {
    const changes: SchemaChange[] = [];
    const old = before.properties ?? {};
    const now = after.properties ?? {};
    const wasRequired = new Set(before.required ?? []);
    const isRequired = new Set(after.required ?? []);
    for (const [name, prop] of Object.entries(old)) {
        const path = `${owner}.${name}`;
        const next = now[name];
        if (next === undefined) {
            const kind = role === "input" ? "removed-input" : "removed-output";
            changes.push({ kind, path, message: `${role} ${path} was removed` });
            continue;
        }
        changes.push(...compareProperty(path, role, prop, next));
        if (role === "output" && wasRequired.has(name) && !isRequired.has(name))
            changes.push({ kind: "output-now-optional", path, message: `output ${path} is no longer always set` });
    }
    if (role === "input")
        for (const name of isRequired)
            if (!wasRequired.has(name))
                changes.push({
                    kind: "new-required-input",
                    path: `${owner}.${name}`,
                    message: `input ${owner}.${name} is now required: programs without it fail`,
                });
    return changes;
}

/** Type tokens reachable from the given properties through `#/types/` references. */
function reachableTypes(schema: PackageSchema, roots: SchemaProperty[]): Set<string> {
    const seen = new Set<string>();
    const visit = (p: SchemaProperty | undefined): void => {
        if (p === undefined) return;
        visit(p.items);
        visit(p.additionalProperties);
        const token = p.$ref?.startsWith("#/types/") ? p.$ref.slice("#/types/".length) : undefined;
        if (token === undefined || seen.has(token)) return;
        seen.add(token);
        Object.values(schema.types?.[token]?.properties ?? {}).forEach(visit);
    };
    roots.forEach(visit);
    return seen;
}

function compareEnum(token: string, before: SchemaObject, after: SchemaObject): SchemaChange[] {
    const values = new Set((after.enum ?? []).map((e) => e.value));
    return (before.enum ?? [])
        .filter((e) => !values.has(e.value))
        .map((e) => ({
            kind: "removed-enum-value" as const,
            path: `${shortName(token)}.${e.name ?? String(e.value)}`,
            message: `enum ${shortName(token)} lost the value ${JSON.stringify(e.value)}`,
        }));
}

/** The named types of `before` as inputs or outputs, compared with the same types in `after`. */
function compareTypes(before: PackageSchema, after: PackageSchema, role: Role, tokens: Set<string>): SchemaChange[] {
    const changes: SchemaChange[] = [];
    for (const token of tokens) {
        const old = before.types?.[token];
        const now = after.types?.[token];
        // A type that is gone shows as the changed type of every property that referred to it.
        if (old === undefined || now === undefined) continue;
        if (old.enum !== undefined) changes.push(...compareEnum(token, old, now));
        else changes.push(...compareProperties(shortName(token), role, old, now));
    }
    return changes;
}

/** Every change from `before` to `after` that breaks a program written against `before`; [] if none. */
export function incompatibleChanges(before: PackageSchema, after: PackageSchema): SchemaChange[] {
    const changes: SchemaChange[] = [];
    const inputs: SchemaProperty[] = [];
    const outputs: SchemaProperty[] = [];
    for (const [token, old] of Object.entries(before.resources ?? {})) {
        const name = shortName(token);
        const now = after.resources?.[token];
        if (now === undefined) {
            changes.push({ kind: "removed-resource", path: name, message: `resource ${token} was removed` });
            continue;
        }
        const inputsOf = (r: SchemaObject) => ({ properties: r.inputProperties, required: r.requiredInputs });
        changes.push(...compareProperties(name, "input", inputsOf(old), inputsOf(now)));
        changes.push(...compareProperties(name, "output", old, now));
        inputs.push(...Object.values(old.inputProperties ?? {}));
        outputs.push(...Object.values(old.properties ?? {}));
    }
    changes.push(...compareTypes(before, after, "input", reachableTypes(before, inputs)));
    changes.push(...compareTypes(before, after, "output", reachableTypes(before, outputs)));
    // An enum used by inputs and outputs alike (UserCa) is reported once.
    return changes.filter((c, i) => changes.findIndex((d) => d.kind === c.kind && d.path === c.path) === i);
}
