// Keys set in the `jumpgate:` namespace that no reader asks for: typos, named with the closest known key.
import { ConfigProblem } from "./types";

/** Levenshtein distance, to name the known key closest to a typo. */
function editDistance(a: string, b: string): number {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const current = [i];
        for (let j = 1; j <= b.length; j++) {
            const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
            current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
        }
        previous = current;
    }
    return previous[b.length]!;
}

/** Keys set in the `jumpgate:` namespace that the program does not read: typos, silently ignored otherwise. */
export function unknownKeyProblems(present: readonly string[], known: ReadonlySet<string>): ConfigProblem[] {
    return present
        .filter((key) => !known.has(key))
        .map((key) => {
            const [closest] = [...known]
                .map((k) => ({ k, d: editDistance(key.toLowerCase(), k.toLowerCase()) }))
                .sort((x, y) => x.d - y.d);
            const near = closest && closest.d <= Math.max(2, Math.floor(key.length / 3)) ? closest.k : undefined;
            return {
                key,
                // Not echoed: an unknown key may hold a secret, and this message ends up in logs.
                value: "(hidden)",
                message: near
                    ? `is not a jumpgate setting, so it would be ignored; did you mean ${near}?`
                    : "is not a jumpgate setting, so it would be ignored (Pulumi.yaml lists every key)",
                fix:
                    `pulumi config rm ${key}` +
                    (near ? `  (and set the value again as ${near}: pulumi config set ${near} ...)` : ""),
            };
        });
}
