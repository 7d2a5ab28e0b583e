// Availability zones as DescribeAvailabilityZones reports them to an account that opted in to one Local
// Zone (and not to another), so a program that does not filter by opt-in status gets the Local Zone,
// which sorts before the regular zones by name, as in real regions.
// See https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAvailabilityZones.html

export interface SimulatedZone {
    zoneName: string;
    zoneId: string;
    groupName: string;
    zoneType: "availability-zone" | "local-zone";
    optInStatus: "opt-in-not-required" | "opted-in" | "not-opted-in";
    state: "available" | "information" | "impaired" | "unavailable";
    regionName: string;
}

/** Regular zone letters, zone ID prefix, an opted-in and a not-opted-in Local Zone per known region. */
const REGIONS: Record<string, { letters: string; idPrefix: string; optedIn: string; notOptedIn: string }> = {
    "us-east-1": { letters: "abcdef", idPrefix: "use1", optedIn: "bos-1", notOptedIn: "mia-1" },
    "us-west-2": { letters: "abcd", idPrefix: "usw2", optedIn: "lax-1", notOptedIn: "den-1" },
    "eu-central-1": { letters: "abc", idPrefix: "euc1", optedIn: "ham-1", notOptedIn: "waw-1" },
};

/** Every zone of `region` the account can see, including Local Zones it has not opted in to. */
export function zonesOf(region: string): SimulatedZone[] {
    const r = REGIONS[region] ?? {
        letters: "abc",
        idPrefix: region.replace(/-/g, ""),
        optedIn: "lz-1",
        notOptedIn: "lz-2",
    };
    const regular = [...r.letters].map((letter, i): SimulatedZone => ({
        zoneName: `${region}${letter}`,
        zoneId: `${r.idPrefix}-az${i + 1}`,
        groupName: region,
        zoneType: "availability-zone",
        optInStatus: "opt-in-not-required",
        state: "available",
        regionName: region,
    }));
    const local = (code: string, optInStatus: SimulatedZone["optInStatus"]): SimulatedZone => ({
        zoneName: `${region}-${code}a`,
        zoneId: `${r.idPrefix}-${code.replace("-", "")}-az1`,
        groupName: `${region}-${code}`,
        zoneType: "local-zone",
        optInStatus,
        state: "available",
        regionName: region,
    });
    return [...regular, local(r.optedIn, "opted-in"), local(r.notOptedIn, "not-opted-in")];
}

/** DescribeAvailabilityZones filter names and the zone field each matches. */
const FILTER_FIELDS: Record<string, keyof SimulatedZone> = {
    "opt-in-status": "optInStatus",
    "zone-name": "zoneName",
    "zone-id": "zoneId",
    "zone-type": "zoneType",
    "group-name": "groupName",
    "region-name": "regionName",
    state: "state",
};

export interface ZoneQuery {
    allAvailabilityZones?: boolean;
    filters?: { name: string; values: string[] }[];
    state?: string;
    excludeNames?: string[];
    excludeZoneIds?: string[];
}

/**
 * The zones `aws.getAvailabilityZones` returns for `query`: without `allAvailabilityZones` only zones the
 * account may use (not `not-opted-in`), then filters (values OR-ed, filters AND-ed), state and
 * exclusions; sorted by name as the provider sorts them. Throws for a filter name the API does not know.
 */
export function queryZones(region: string, query: ZoneQuery): SimulatedZone[] {
    let zones = zonesOf(region).filter((z) => query.allAvailabilityZones || z.optInStatus !== "not-opted-in");
    for (const f of query.filters ?? []) {
        const field = FILTER_FIELDS[f.name];
        if (!field) throw new Error(`InvalidParameterValue: The filter '${f.name}' is invalid`);
        zones = zones.filter((z) => f.values.includes(z[field]));
    }
    if (query.state) zones = zones.filter((z) => z.state === query.state);
    zones = zones.filter(
        (z) => !(query.excludeNames ?? []).includes(z.zoneName) && !(query.excludeZoneIds ?? []).includes(z.zoneId),
    );
    return zones.sort((a, b) => (a.zoneName < b.zoneName ? -1 : a.zoneName > b.zoneName ? 1 : 0));
}
