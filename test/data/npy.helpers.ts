/**
 * An independent .npy/.npz writer, written from the format description (not from our reader),
 * and fast-check arbitraries of arrays for it.
 */
import { deflateRawSync } from "node:zlib";
import fc from "fast-check";

type Kind = {
  code: string;
  size: number;
  write: (b: Buffer, v: number, o: number, le: boolean) => void;
  gen: fc.Arbitrary<number>;
};
const f32 = (x: number) => Math.fround(x);
export const KINDS: Kind[] = [
  {
    code: "f8",
    size: 8,
    write: (b, v, o, le) => (le ? b.writeDoubleLE(v, o) : b.writeDoubleBE(v, o)),
    gen: fc.double({ noNaN: true, noDefaultInfinity: true }),
  },
  {
    code: "f4",
    size: 4,
    write: (b, v, o, le) => (le ? b.writeFloatLE(v, o) : b.writeFloatBE(v, o)),
    gen: fc.float({ noNaN: true, noDefaultInfinity: true }).map(f32),
  },
  {
    code: "i4",
    size: 4,
    write: (b, v, o, le) => (le ? b.writeInt32LE(v, o) : b.writeInt32BE(v, o)),
    gen: fc.integer(),
  },
  {
    code: "i2",
    size: 2,
    write: (b, v, o, le) => (le ? b.writeInt16LE(v, o) : b.writeInt16BE(v, o)),
    gen: fc.integer({ min: -32768, max: 32767 }),
  },
  {
    code: "u2",
    size: 2,
    write: (b, v, o, le) => (le ? b.writeUInt16LE(v, o) : b.writeUInt16BE(v, o)),
    gen: fc.integer({ min: 0, max: 65535 }),
  },
  {
    code: "i8",
    size: 8,
    write: (b, v, o, le) =>
      le ? b.writeBigInt64LE(BigInt(v), o) : b.writeBigInt64BE(BigInt(v), o),
    gen: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  },
  {
    code: "i1",
    size: 1,
    write: (b, v, o) => b.writeInt8(v, o),
    gen: fc.integer({ min: -128, max: 127 }),
  },
  {
    code: "u1",
    size: 1,
    write: (b, v, o) => b.writeUInt8(v, o),
    gen: fc.integer({ min: 0, max: 255 }),
  },
];

export type Case = {
  kind: number;
  le: boolean;
  version: 1 | 2 | 3;
  fortran: boolean;
  shape: number[];
  values: number[];
};

export const caseArb: fc.Arbitrary<Case> = fc
  .record({
    kind: fc.nat({ max: KINDS.length - 1 }),
    le: fc.boolean(),
    version: fc.constantFrom<1 | 2 | 3>(1, 2, 3),
    fortran: fc.boolean(),
    shape: fc.array(fc.nat({ max: 4 }), { maxLength: 3 }),
  })
  .chain((c) => {
    const n = c.shape.reduce((a, b) => a * b, 1);
    return fc
      .array(KINDS[c.kind]!.gen, { minLength: n, maxLength: n })
      .map((values) => ({ ...c, values }));
  });

/** Writes a .npy file; `values` are in C order, written in the case's memory order. */
export function writeNpy(c: Case): Buffer {
  const kind = KINDS[c.kind]!;
  const order = kind.size === 1 ? "|" : c.le ? "<" : ">";
  const shape = c.shape.length === 1 ? `(${c.shape[0]},)` : `(${c.shape.join(", ")})`;
  let header = `{'descr': '${order}${kind.code}', 'fortran_order': ${c.fortran ? "True" : "False"}, 'shape': ${shape}, }`;
  const pre = c.version === 1 ? 10 : 12;
  header += " ".repeat(63 - ((pre + header.length) % 64)) + "\n";
  const out = Buffer.alloc(pre + header.length + c.values.length * kind.size);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, c.version, 0]).copy(out);
  if (c.version === 1) out.writeUInt16LE(header.length, 8);
  else out.writeUInt32LE(header.length, 8);
  out.write(header, pre, "latin1");
  // Fortran order: first axis fastest. Position of C index i in memory order:
  const strides = c.shape.map((_, a) => c.shape.slice(0, a).reduce((x, y) => x * y, 1));
  c.values.forEach((v, i) => {
    let rest = i;
    let pos = 0;
    for (let a = c.shape.length - 1; a >= 0; a--) {
      const idx = rest % c.shape[a]!;
      rest = Math.floor(rest / c.shape[a]!);
      pos += idx * (c.fortran ? strides[a]! : 1);
    }
    if (!c.fortran) pos = i;
    kind.write(out, v, pre + header.length + pos * kind.size, c.le);
  });
  return out;
}

/** A stored or deflated zip of .npy members, with NumPy's central directory layout. */
export function writeZip(members: [string, Buffer][], deflate: boolean): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of members) {
    const body = deflate ? deflateRawSync(data) : data;
    const nameBuf = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, body);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(members.length, 8);
  eocd.writeUInt16LE(members.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** A .npy (or an .npz holding it as both `logits` and `slopes`), then damaged. */
export type DamagedNpy = { bytes: Buffer; zip: boolean };

/** Writes a {@link Case}, possibly zipped, then overwrites bytes at `at` and cuts at `cut`. */
export function damageNpy(
  base: Case,
  at: [number, number][],
  cut: number | undefined,
  zip: boolean,
): DamagedNpy {
  const npy = writeNpy(base);
  let bytes = Buffer.from(
    zip
      ? writeZip(
          [
            ["logits.npy", npy],
            ["slopes.npy", npy],
          ],
          true,
        )
      : npy,
  );
  for (const [i, byte] of at) bytes[i % bytes.length] = byte;
  if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
  return { bytes, zip };
}

/** Seeded damaged files: a few bytes overwritten, maybe cut short, maybe zipped. */
export const damagedNpyArb: fc.Arbitrary<DamagedNpy> = fc
  .record({
    base: caseArb,
    at: fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 3 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    zip: fc.boolean(),
  })
  .map((s) => damageNpy(s.base, s.at, s.cut, s.zip));
