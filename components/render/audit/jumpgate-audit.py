#!/usr/bin/python3
# jumpgate audit records: one JSON record per login, failed authentication, forwarded connection,
# refused forwarding and fail2ban ban, built from sshd's own journal lines (LogVerbose of the
# direct-tcpip functions) and fail2ban's log, correlated by the sshd-session process, written to the
# journal as SYSLOG_IDENTIFIER=jumpgate-audit. Python standard library only. Fields: see
# components/render/auditRecord.ts. The rendered file starts with `CONFIG = {...}` (stack, host, the
# target names by ip:port); comment lines are left out of the user data to save space.
# Usage: jumpgate-audit.py                      follow the journal (the systemd unit)
#        jumpgate-audit.py --replay J [F2B]     records of a saved `journalctl -o json` file (tests)
import json, os, re, select, socket, subprocess, sys, time

# A forward closed while its session goes on waits this long for the session's byte count.
HOLD = 60
PREFIX = re.compile(r"^(?:debug\d: )?\S+\.c:(\w+)\(\):\d+ \([^)]*\): ")
ACCEPTED = re.compile(r"Accepted publickey for (\S+) from \S+ port \d+ \S+: \S+ (SHA256:\S+)(?: ID (.*) \(serial (\d+)\) CA )?")
FAILED = re.compile(r"(?:Failed \S+|Invalid user) (?:for )?(?:invalid user )?(\S*) from \S+ port \d+(?: \S+: \S+ (SHA256:\S+))?")
BAN = re.compile(r"(\S+ \S+),(\d+) fail2ban\.actions\s+\[\d+\]: NOTICE\s+\[([^\]]+)\] Ban (\S+)")
END = re.compile(r"Closing connection to|Disconnected from user|pam_unix\(sshd:session\): session closed")
PREAUTH_END = re.compile(r"Connection (closed|reset) by|Disconnect|Timeout before auth|banner exchange|Unable to negotiate")


def iso(us):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 10**6)) + ".%03dZ" % (us // 1000 % 1000)


class Builder:
    def __init__(self, emit):
        self.emit, self.conns = emit, {}

    def record(self, event, us, **f):
        r = {"v": 1, "event": event, "stack": CONFIG["stack"], "host": CONFIG["host"], "time": iso(us)}
        r.update((k, v) for k, v in f.items() if v is not None)
        self.emit(r)

    def who(self, c, dest=None):
        return dict(session=c["pid"], user=c.get("user"), identity=c.get("id"), serial=c.get("serial"),
                    fingerprint=c.get("fp"), sourceIp=c["ip"], sourcePort=c["port"], destination=dest,
                    target=dest and CONFIG["targets"].get(dest))

    def journal(self, e):
        msg, pid, us = e.get("MESSAGE"), int(e.get("_PID", 0)), int(e["__REALTIME_TIMESTAMP"])
        if not isinstance(msg, str):
            return
        m = re.match(r"Connection from (\S+) port (\d+) on ", msg)
        if m:
            self.conns[pid] = dict(pid=pid, ip=m[1], port=int(m[2]), open={}, done=[], n=0, pids=[pid])
        c = self.conns.get(pid)
        if c is None:
            return
        c["seen"] = time.time()
        fn = PREFIX.match(msg)
        text, fn = (msg[fn.end():], fn[1]) if fn else (msg, "")
        m = re.search(r"target (\S+) port (\d+)$|channel (\d+): (new |free: )direct-tcpip", text)
        if fn == "server_request_direct_tcpip" and m:
            c["asked"] = "%s:%s" % (m[1], m[2])
        elif fn == "channel_new" and m and m[3] and c.get("asked"):
            c["open"][m[3]] = dict(dest=c.pop("asked"), start=us)
            c["n"] += 1
        elif fn == "channel_free" and m and m[3] in c["open"]:
            f = c["open"].pop(m[3])
            f["end"], f["closed"] = us, time.time()
            c["done"].append(f)
        elif "but the request was denied" in text:
            m = re.search(r"connect to host (\S+) port (\d+)", text)
            c.pop("asked", None)
            self.record("refused", us, **self.who(c, m and "%s:%s" % (m[1], m[2])), reason="request was denied (PermitOpen)")
        elif ACCEPTED.match(text):
            m = ACCEPTED.match(text)
            c.update(user=m[1], fp=m[2], id=m[3], serial=m[4], auth=True)
            self.record("login", us, **self.who(c))
        elif FAILED.match(text):
            m = FAILED.match(text)
            c.update(user=m[1], failure=text, fp=m[2] or c.get("fp"))
        elif text.startswith("User child is on pid "):
            child = int(text.rsplit(" ", 1)[1])
            self.conns[child] = c
            c["pids"].append(child)
        elif text.startswith("Transferred: "):
            c["bytes"] = [int(x) for x in re.findall(r"\d+", text)[:2]]
        elif END.match(text) or (not c.get("auth") and PREAUTH_END.match(text)):
            m = re.search(r"(?:authenticating|invalid) user (\S*) ", text)
            if m and not c.get("user"):
                c["user"] = m[1]
            c.setdefault("closing", text)
            self.finish(c, us)

    def forward(self, c, f, bytes_known):
        b = c.get("bytes") if bytes_known and c["n"] == 1 else None
        self.record("forward", f["end"], **self.who(c, f["dest"]), start=iso(f["start"]), end=iso(f["end"]),
                    durationSeconds=round((f["end"] - f["start"]) / 1e6, 3),
                    bytesSent=b and b[0], bytesReceived=b and b[1])

    # The connection ended: forwards still open end with it; a connection never authenticated failed.
    def finish(self, c, us):
        for pid in c["pids"]:
            self.conns.pop(pid, None)
        if not c.get("auth"):
            return self.record("auth-failure", us, **self.who(c), reason=c.get("failure") or c.get("closing"))
        for f in list(c["open"].values()) + c["done"]:
            f.setdefault("end", us)
            self.forward(c, f, True)

    # Forwards held too long for a byte count are written without; connections whose processes are gone end.
    def tick(self, now, alive, us=None):
        for c in list({id(c): c for c in self.conns.values()}.values()):
            for f in [f for f in c["done"] if now - f["closed"] > HOLD]:
                c["done"].remove(f)
                self.forward(c, f, False)
            if now - c["seen"] > 5 and not any(map(alive, c["pids"])):
                self.finish(c, us or int(now * 1e6))

    def fail2ban(self, line):
        m = BAN.match(line)
        if m:
            self.record("ban", int(time.mktime(time.strptime(m[1], "%Y-%m-%d %H:%M:%S")) * 1e6) + int(m[2]) * 1000,
                        sourceIp=m[4], reason=m[3])


def replay(journal, f2b):
    b, last = Builder(lambda r: print(json.dumps(r, separators=(",", ":")))), 0
    for line in open(journal):
        e = json.loads(line)
        last = int(e["__REALTIME_TIMESTAMP"])
        b.journal(e)
    for line in open(f2b) if f2b else []:
        b.fail2ban(line)
    b.tick(float("inf"), lambda pid: False, last)


def follow(state):
    # Where it got to (the last journal entry read, fail2ban's log inode and offset) is saved after every
    # record, so a restart writes none twice.
    sock, path = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM), os.path.join(state, "position.json")
    try:
        pos = json.load(open(path))
    except (OSError, ValueError):
        pos = {}
    sent = []

    def send(r):
        f = {"MESSAGE": json.dumps(r, separators=(",", ":")), "SYSLOG_IDENTIFIER": "jumpgate-audit", "PRIORITY": "6"}
        sock.sendto("".join("%s=%s\n" % kv for kv in f.items()).encode(), "/run/systemd/journal/socket")
        sent.append(1)

    b, beat, saved, log, pending = Builder(send), 0, 0, None, b""
    cmd = ["journalctl", "-b", "--no-tail", "-f", "-o", "json", "_SYSTEMD_UNIT=ssh.service"]
    journal = subprocess.Popen(cmd + (["--after-cursor", pos["cursor"]] if "cursor" in pos else []), stdout=subprocess.PIPE)
    fd = journal.stdout.fileno()
    while True:
        # Every complete line read is handled now: a buffered readline() would leave lines select() cannot see
        # (the last connection before a quiet spell would wait for the next entry, or end without its lines).
        if select.select([fd], [], [], 1)[0]:
            chunk = os.read(fd, 65536)
            if not chunk:
                sys.exit("journalctl ended")
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                e = json.loads(line)
                b.journal(e)
                pos["cursor"] = e["__CURSOR"]
        try:
            st = os.stat(CONFIG["fail2banLog"])
            if log is None or st.st_ino != pos["f2b"][0] or st.st_size < log.tell():
                at = pos.get("f2b", [0, 0])
                log = open(CONFIG["fail2banLog"], errors="replace")
                log.seek(at[1] if at[0] == st.st_ino and at[1] <= st.st_size else 0)
            for line in log.readlines():
                b.fail2ban(line)
            pos["f2b"] = [st.st_ino, log.tell()]
        except OSError:
            log = None
        now = time.time()
        b.tick(now, lambda pid: os.path.exists("/proc/%d" % pid))
        if now - beat >= CONFIG["heartbeatSeconds"]:
            beat = now
            b.record("heartbeat", int(now * 1e6))
        if sent or now - saved >= 10:
            with open(path + ".new", "w") as fh:
                json.dump(pos, fh)
            os.replace(path + ".new", path)
            saved, sent[:] = now, []


if __name__ == "__main__":
    if sys.argv[1:2] == ["--replay"]:
        replay(*sys.argv[2:4])
    else:
        follow(os.environ.get("STATE_DIRECTORY", "/var/lib/jumpgate-audit"))
