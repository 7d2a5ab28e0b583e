// The SSH wire encoding (RFC 4251 section 5) that certificates, key blobs and signatures are made of:
// big-endian integers and length-prefixed strings. Pure: no I/O.

/** Thrown for bytes that are not the expected SSH wire data; the message says what was being read. */
export class SshWireError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "SshWireError";
    }
}

/** `uint32`: 4 bytes, big-endian. */
export function uint32(n: number): Buffer {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new SshWireError(`${n} is not a uint32`);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
}

/** `uint64`: 8 bytes, big-endian. */
export function uint64(n: bigint): Buffer {
    if (n < 0n || n > 0xffffffffffffffffn) throw new SshWireError(`${n} is not a uint64`);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    return b;
}

/** `string`: a uint32 length, then the bytes (UTF-8 for text). */
export function sshString(data: Uint8Array | string): Buffer {
    const body = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
    return Buffer.concat([uint32(body.length), body]);
}

/** `mpint`: a non-negative integer as two's complement, minimal length, with a 0 byte when the top bit is set. */
export function mpint(magnitude: Uint8Array): Buffer {
    let start = 0;
    while (start < magnitude.length && magnitude[start] === 0) start++;
    const trimmed = Buffer.from(magnitude.subarray(start));
    const body = trimmed.length > 0 && trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
    return sshString(body);
}

/** Reads wire fields in order; every read checks there are enough bytes left. */
export class SshReader {
    private offset = 0;

    constructor(
        private readonly data: Buffer,
        /** Named in errors: what these bytes were supposed to be. */
        private readonly what: string,
    ) {}

    private take(n: number, field: string): Buffer {
        if (this.offset + n > this.data.length) {
            throw new SshWireError(`${this.what}: truncated while reading ${field}`);
        }
        const out = this.data.subarray(this.offset, this.offset + n);
        this.offset += n;
        return out;
    }

    uint32(field: string): number {
        return this.take(4, field).readUInt32BE(0);
    }

    uint64(field: string): bigint {
        return this.take(8, field).readBigUInt64BE(0);
    }

    bytes(field: string): Buffer {
        return this.take(this.uint32(`${field} length`), field);
    }

    text(field: string): string {
        return this.bytes(field).toString("utf8");
    }

    /** Bytes not read yet. */
    get remaining(): number {
        return this.data.length - this.offset;
    }

    /** Everything not read yet (consumed). */
    rest(): Buffer {
        return this.take(this.remaining, "the rest");
    }
}
