// Host hardening settings: fail2ban's ban policy and the unattended upgrades' reboot time.
import { Fail2banSettings, UpgradeSettings } from "../render/model";
import { cidrProblem } from "../net/cidr";
import { ConfigReader, set, setPath } from "./reader";
import { DEFAULTS } from "./types";

/** `fail2ban*`: retries, windows and ban times in range, and addresses never banned as valid CIDRs or IPs. */
export function readFail2ban(r: ConfigReader): Fail2banSettings {
    const fail2ban: Fail2banSettings = {
        maxRetry: r.int("fail2banMaxRetry", DEFAULTS.fail2banMaxRetry, 1, 100),
        findTimeSeconds: r.int("fail2banFindTimeSeconds", DEFAULTS.fail2banFindTimeSeconds, 1, 31_536_000),
        banTimeSeconds: r.int("fail2banBanTimeSeconds", DEFAULTS.fail2banBanTimeSeconds, 1, 31_536_000),
        banTimeMaxSeconds: r.int("fail2banBanTimeMaxSeconds", DEFAULTS.fail2banBanTimeMaxSeconds, 1, 31_536_000),
        ignoreIps: r.stringList("fail2banIgnoreIps", DEFAULTS.fail2banIgnoreIps, "198.51.100.0/24"),
    };
    if (fail2ban.banTimeMaxSeconds < fail2ban.banTimeSeconds) {
        r.problem(
            "fail2banBanTimeMaxSeconds",
            String(fail2ban.banTimeMaxSeconds),
            "must be at least fail2banBanTimeSeconds",
            set(
                "fail2banBanTimeMaxSeconds",
                String(Math.max(fail2ban.banTimeSeconds, DEFAULTS.fail2banBanTimeMaxSeconds)),
            ),
        );
    }
    fail2ban.ignoreIps.forEach((ip, i) => {
        const text = ip.includes("/") ? ip : `${ip}/${ip.includes(":") ? 128 : 32}`;
        const why = cidrProblem(text);
        if (why) r.problem(`fail2banIgnoreIps[${i}]`, ip, why, setPath(`fail2banIgnoreIps[${i}]`, "198.51.100.0/24"));
    });
    return fail2ban;
}

/** `upgradesRebootTime`: HH:MM when a security update needs a reboot, or empty for never. */
export function readUpgrades(r: ConfigReader): UpgradeSettings {
    const rebootTime = r.str("upgradesRebootTime", DEFAULTS.upgradesRebootTime);
    if (rebootTime !== "" && !/^([01]\d|2[0-3]):[0-5]\d$/.test(rebootTime)) {
        r.problem(
            "upgradesRebootTime",
            rebootTime,
            "must be HH:MM (24h) or empty for never",
            set("upgradesRebootTime", "04:30"),
        );
    }
    return rebootTime === "" ? {} : { rebootTime };
}
