#!/usr/bin/env python3
"""Independent Python reference implementation of the BlockChain protocol
(DESIGN.md section 3), used to generate test vectors for the Rust core.

Run from the repository root:

    python3 tests/vectors/gen_vectors.py [--out DIR] [FILE.json ...]

It writes JSON files into core/tests/data/ (or DIR): all of them, or only
the ones named. Only the standard library and
the `cryptography` package are used. Non-cryptographic choices come from
random.Random(2026); RSA keys, PSS salts and keystore salts/IVs are random
(the outputs are checked in, so that is fine).
"""

import base64
import hashlib
import json
import os
import random
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "core", "tests", "data")

rng = random.Random(2026)

U32_MAX = 2**32 - 1
U64_MAX = 2**64 - 1


def sha256(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def hx(b: bytes) -> str:
    return b.hex()


def h64(n: int) -> str:
    """A 256-bit number as 64 hex digits, big-endian."""
    assert 0 <= n < 2**256
    return "%064x" % n


def u32(n):
    return struct.pack("<I", n)


def u64(n):
    return struct.pack("<Q", n)


def rand_bytes(n):
    return bytes(rng.getrandbits(8) for _ in range(n))


# ---------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------

GENESIS_TIME = 1764000000000

NETWORKS = {
    "regtest": {"magic": b"BCrt", "prefix": "rblk", "genesis_bits": 0x207FFFFF,
                "pow_limit": 2**255 - 1},
    "devnet": {"magic": b"BCdv", "prefix": "tblk", "genesis_bits": 0x1E008000,
               "pow_limit": 2**240 - 1},
}

DEVNET_SPACING_MS = 10_000
DEVNET_HALF_LIFE_MS = 3_600_000
DEVNET_INITIAL_TARGET = 2**231
DEVNET_POW_LIMIT = 2**240 - 1

REWARD = 5_000_000_000  # 50 coins, before any halving (heights < 210000)


# ---------------------------------------------------------------------------
# Compact bits (Bitcoin Core arith_uint256::SetCompact / GetCompact)
# ---------------------------------------------------------------------------

def set_compact(bits):
    """Returns (target, negative, overflow) exactly as SetCompact does."""
    size = bits >> 24
    word = bits & 0x007FFFFF
    if size <= 3:
        word >>= 8 * (3 - size)
        target = word
    else:
        target = (word << (8 * (size - 3))) % 2**256  # arith_uint256 truncates
    negative = word != 0 and (bits & 0x00800000) != 0
    overflow = word != 0 and (size > 34 or (word > 0xFF and size > 33)
                              or (word > 0xFFFF and size > 32))
    return target, negative, overflow


def get_compact(target, negative=False):
    assert 0 <= target < 2**256
    size = (target.bit_length() + 7) // 8
    if size <= 3:
        compact = (target << (8 * (3 - size))) & 0xFFFFFFFFFFFFFFFF
    else:
        compact = (target >> (8 * (size - 3))) & 0xFFFFFFFFFFFFFFFF
    if compact & 0x00800000:
        compact >>= 8
        size += 1
    assert (compact & ~0x007FFFFF) == 0 and size < 256
    compact |= size << 24
    if negative and (compact & 0x007FFFFF):
        compact |= 0x00800000
    return compact


def decode_bits(bits):
    """Target for bits, or None when negative, overflowing or zero."""
    target, neg, ovf = set_compact(bits)
    if neg or ovf or target == 0:
        return None
    return target


def work_of_target(target):
    return 2**256 // (target + 1)


# ---------------------------------------------------------------------------
# Header
# ---------------------------------------------------------------------------

def encode_header(version, height, prev_hash, merkle_root, state_root, time, bits, nonce):
    h = (u32(version) + u64(height) + prev_hash + merkle_root + state_root
         + u64(time) + u32(bits) + u64(nonce))
    assert len(h) == 128
    return h


def genesis_header(network):
    return encode_header(1, 0, bytes(32), sha256(b""), bytes(32), GENESIS_TIME,
                         NETWORKS[network]["genesis_bits"], 0)


# ---------------------------------------------------------------------------
# ASERT (DESIGN section 3, followed literally): anchored at block 1
# ---------------------------------------------------------------------------

def asert_target(parent_height, parent_time, anchor_time,
                 spacing=DEVNET_SPACING_MS, half_life=DEVNET_HALF_LIFE_MS,
                 initial_target=DEVNET_INITIAL_TARGET, pow_limit=DEVNET_POW_LIMIT):
    """Target of the child of a parent at (parent_height, parent_time) whose
    chain's block 1 has time anchor_time (None when the parent is genesis)."""
    if parent_height == 0:
        # Block 1 carries the genesis bits.
        assert anchor_time is None
        return initial_target
    time_delta = parent_time - anchor_time
    height_delta = parent_height - 1
    exponent = ((time_delta - spacing * height_delta) * 65536) // half_life  # floor
    shifts = exponent >> 16  # arithmetic, toward -inf
    frac = exponent - shifts * 65536
    assert 0 <= frac <= 65535
    factor = 65536 + ((195766423245049 * frac + 971821376 * frac**2
                       + 5127 * frac**3 + 2**47) >> 48)
    target = initial_target * factor
    if shifts > 512:
        # Python would try to build a number trillions of bits long; any shift
        # this large is far above pow_limit and clamps to it anyway.
        shifts = 512
    if shifts >= 0:
        target <<= shifts
    else:
        target >>= -shifts
    target >>= 16
    return max(1, min(target, pow_limit))


# ---------------------------------------------------------------------------
# bech32m (BIP-350)
# ---------------------------------------------------------------------------

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32_CONST = 1
BECH32M_CONST = 0x2BC830A3


def bech32_polymod(values):
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((top >> i) & 1) else 0
    return chk


def hrp_expand(hrp):
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def create_checksum(hrp, data, const):
    values = hrp_expand(hrp) + data
    polymod = bech32_polymod(values + [0] * 6) ^ const
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]


def bech32_encode_5bit(hrp, data5, const=BECH32M_CONST):
    combined = data5 + create_checksum(hrp, data5, const)
    return hrp + "1" + "".join(CHARSET[d] for d in combined)


def convertbits(data, frombits, tobits, pad):
    acc = 0
    bits = 0
    ret = []
    maxv = (1 << tobits) - 1
    for value in data:
        if value < 0 or value >> frombits:
            return None
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            ret.append((acc >> bits) & maxv)
    if pad:
        if bits:
            ret.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        return None
    return ret


def encode_address(prefix, raw20):
    assert len(raw20) == 20
    return bech32_encode_5bit(prefix, convertbits(raw20, 8, 5, True))


def decode_address(prefix, s):
    """Returns (raw bytes, None) or (None, reason)."""
    if any(ord(c) < 33 or ord(c) > 126 for c in s):
        return None, "character out of range"
    if s.lower() != s and s.upper() != s:
        return None, "mixed case"
    s = s.lower()
    pos = s.rfind("1")
    if pos < 1 or pos + 7 > len(s) or len(s) > 90:
        return None, "bad separator position or length"
    hrp = s[:pos]
    if any(c not in CHARSET for c in s[pos + 1:]):
        return None, "invalid character"
    data = [CHARSET.find(c) for c in s[pos + 1:]]
    if bech32_polymod(hrp_expand(hrp) + data) != BECH32M_CONST:
        return None, "checksum"
    if hrp != prefix:
        return None, "wrong prefix"
    raw = convertbits(data[:-6], 5, 8, False)
    if raw is None:
        return None, "bad padding"
    if len(raw) != 20:
        return None, "wrong length"
    return bytes(raw), None


# ---------------------------------------------------------------------------
# Merkle trees
# ---------------------------------------------------------------------------

def largest_pow2_below(n):
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    """RFC 6962 Merkle Tree Hash over txids."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + leaves[0])
    k = largest_pow2_below(n)
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def audit_path(m, leaves):
    """RFC 6962 section 2.1.1 PATH(m, D[n]), from the leaf upward."""
    n = len(leaves)
    if n == 1:
        return []
    k = largest_pow2_below(n)
    if m < k:
        return audit_path(m, leaves[:k]) + [mth(leaves[k:])]
    return audit_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def verify_audit_path(index, n, leaf, path, root):
    """RFC 9162 section 2.1.3.2 verification, as an independent check."""
    if index >= n:
        return False
    fn, sn = index, n - 1
    r = sha256(b"\x00" + leaf)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = sha256(b"\x01" + p + r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = sha256(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def state_leaf(key, balance, nonce):
    return sha256(b"\x00" + key + u64(balance) + u64(nonce))


def key_bit(key, depth):
    return (key[depth // 8] >> (7 - depth % 8)) & 1


def smt_hash(entries, depth=0):
    """entries: list of (key, balance, nonce) under the subtree at depth."""
    if not entries:
        return bytes(32)
    if len(entries) == 1:
        key, bal, non = entries[0]
        return state_leaf(key, bal, non)
    left = [e for e in entries if key_bit(e[0], depth) == 0]
    right = [e for e in entries if key_bit(e[0], depth) == 1]
    return sha256(b"\x01" + smt_hash(left, depth + 1) + smt_hash(right, depth + 1))


def state_root(accounts):
    """accounts: dict address(20 bytes) -> (balance, nonce)."""
    return smt_hash([(sha256(a), b, n) for a, (b, n) in accounts.items()])


# ---------------------------------------------------------------------------
# RSA keys and transactions
# ---------------------------------------------------------------------------

def spki_der(pub):
    return pub.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def pkcs8_der(priv):
    return priv.private_bytes(serialization.Encoding.DER,
                              serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())


def address_of_spki(spki):
    return sha256(spki)[:20]


PSS32 = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def sign_message(priv, message):
    return priv.sign(message, PSS32, hashes.SHA256())


def verify_message(spki, message, sig):
    pub = serialization.load_der_public_key(spki)
    if len(sig) != pub.key_size // 8:
        return False
    try:
        pub.verify(sig, message, PSS32, hashes.SHA256())
        return True
    except Exception:
        return False


def tx_unsigned(from_spki, to, amount, fee, nonce, time, version=1):
    return (u32(version) + u32(len(from_spki)) + from_spki + to + u64(amount)
            + u64(fee) + u64(nonce) + u64(time))


def sign_tx(priv, network, unsigned):
    txid = sha256(unsigned)
    sig = sign_message(priv, NETWORKS[network]["magic"] + txid)
    return txid, unsigned + u32(len(sig)) + sig


def coinbase(to, amount, height, time):
    unsigned = tx_unsigned(b"", to, amount, 0, height, time)
    return sha256(unsigned), unsigned + u32(0)


# ---------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------

written = []

FILES = ("headers.json", "compact.json", "asert.json", "merkle.json", "state.json",
         "addresses.json", "rsa.json", "keystore.json", "chain_regtest.json")

# Files to write (empty: all of them); the others are still computed, so the
# shared random generator reaches each file in the same state either way.
ONLY = set()


def write_json(name, obj):
    if ONLY and name not in ONLY:
        return
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    written.append((name, os.path.getsize(path)))


# ---------------------------------------------------------------------------
# 1. headers.json
# ---------------------------------------------------------------------------

def gen_headers():
    genesis = {}
    for net in ("regtest", "devnet"):
        h = genesis_header(net)
        genesis[net] = {"header": hx(h), "hash": hx(sha256(h))}
    headers = []
    for i in range(20):
        f = {
            "version": 1 if i < 10 else rng.getrandbits(32),
            "height": rng.getrandbits(rng.choice([8, 32, 64])),
            "prev_hash": hx(rand_bytes(32)),
            "merkle_root": hx(rand_bytes(32)),
            "state_root": hx(rand_bytes(32)),
            "time": rng.getrandbits(64) if i % 2 else GENESIS_TIME + rng.getrandbits(32),
            "bits": rng.getrandbits(32),
            "nonce": rng.getrandbits(64),
        }
        if i == 0:
            f["height"], f["time"], f["nonce"] = U64_MAX, U64_MAX, U64_MAX
            f["bits"], f["version"] = U32_MAX, 1
        h = encode_header(f["version"], f["height"], bytes.fromhex(f["prev_hash"]),
                          bytes.fromhex(f["merkle_root"]), bytes.fromhex(f["state_root"]),
                          f["time"], f["bits"], f["nonce"])
        f["header"] = hx(h)
        f["hash"] = hx(sha256(h))
        headers.append(f)
    write_json("headers.json", {"genesis": genesis, "headers": headers})


# ---------------------------------------------------------------------------
# 2. compact.json
# ---------------------------------------------------------------------------

def gen_compact():
    fixed = [
        0x207FFFFF, 0x1E008000, 0x1D00FFFF, 0x1B0404CB,
        0x04923456, 0x01FEDCBA, 0x01803456, 0x20800000,   # sign bit cases
        0xFF123456, 0x23000001, 0x2200FF00, 0x21010000,   # overflow
        0x22000001, 0x220000FF, 0x2100FFFF, 0x20FFFF00,   # large but representable
        0x00000000, 0x00123456, 0x1E000000, 0x04000000,   # zero
        0x01003456, 0x02008000, 0x03123456, 0x01120000, 0x02123456,
        0x01010000, 0x02000080, 0x03000080, 0x05009234, 0x04123456,
        0x1E000080, 0x04000001, 0x1F00FFFF, 0x1E00FFFF, 0x1F000080,  # non-canonical
        0x207FFFFE, 0x1F7FFFFF, 0x217FFFFF,
    ]
    bits_list = list(fixed)
    for i in range(30):
        if i < 10:
            b = rng.getrandbits(32)
        else:
            b = (rng.randrange(0, 0x23) << 24) | rng.getrandbits(24)
        bits_list.append(b)

    decode = []
    for bits in bits_list:
        target = decode_bits(bits)
        valid = target is not None
        decode.append({
            "bits": bits,
            "valid": valid,
            "target": h64(target) if valid else None,
            "canonical": valid and get_compact(target) == bits,
        })

    targets = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0x7FFFFF, 0x800000,
               0x12345678, DEVNET_INITIAL_TARGET, DEVNET_POW_LIMIT, 2**240, 2**255 - 1,
               2**256 - 1, 0x7FFFFF << 232, 0xFFFF << 208]
    for _ in range(20):
        nbits = rng.randrange(1, 257)
        targets.append(rng.getrandbits(nbits) | (1 << (nbits - 1)))
    encode = [{"target": h64(t), "bits": get_compact(t)} for t in targets]

    work_bits = [0x207FFFFF, 0x1E008000, 0x1D00FFFF, 0x1B0404CB, 0x01010000, 0x03123456,
                 0x2100FFFF, 0x220000FF, 0x22000001, 0x1F00FFFF]
    work_bits += [d["bits"] for d in decode[len(fixed):] if d["valid"]][:10]
    work = []
    for bits in work_bits:
        t = decode_bits(bits)
        assert t is not None
        work.append({"bits": bits, "work": h64(work_of_target(t))})

    write_json("compact.json", {"decode": decode, "encode": encode, "work": work})


# ---------------------------------------------------------------------------
# 3. asert.json
# ---------------------------------------------------------------------------

def gen_asert():
    G, S, HL = GENESIS_TIME, DEVNET_SPACING_MS, DEVNET_HALF_LIFE_MS
    DAY = 24 * 3600 * 1000
    # Anchors (block 1 times) come from a generator of their own, so that the
    # shared one, and every file generated after this one, stays as it was.
    arng = random.Random("asert anchored at block 1")

    def anchor():
        return G + 1 + arng.randrange(0, 3 * 365 * DAY)

    cases = []  # (parent_height, parent_time, anchor_time, note)

    def ideal(h, a):
        """The parent time that is exactly on block 1's schedule."""
        return a + S * (h - 1)

    def offset(h, off, note):
        assert h >= 2, "a parent at height 1 is block 1: its time is the anchor"
        a = anchor()
        cases.append((h, ideal(h, a) + off, a, note))

    # parent is genesis: block 1 carries the genesis bits
    cases.append((0, G, None, "parent is genesis: block 1 gets the genesis bits"))
    # parent is block 1 (the anchor itself), whenever it was mined
    for a in (G + 1, G + S, G + 365 * DAY, anchor(), U64_MAX):
        cases.append((1, a, a, "parent is block 1"))
    # a fresh chain long after genesis, on schedule from block 1
    a = G + 365 * DAY
    for h in (2, 10, 360, 1000, 12345, 10**6, 10**8):
        cases.append((h, ideal(h, a), a, "on block 1's schedule, a year after genesis"))
    # slightly ahead / behind, by fractions of a half-life and by a few ms
    for off in (1, -1, 54, 55, 56, -54, -55, -56, 1000, -1000):
        offset(rng.randrange(1, 100000), off, "near the schedule")
    for f in (0.001, 0.01, 0.1, 0.25, 1 / 3, 0.5, 0.75, 0.9, 0.99999):
        for sign in (1, -1):
            offset(rng.randrange(1, 100000), sign * round(HL * f), "fraction of a half-life")
    # many half-lives behind block 1's schedule (positive) and ahead (negative)
    for k in (1, 2, 5, 8, 9, 16, 31, 100):
        offset(rng.randrange(1000, 10**6), k * HL, "%d half-lives behind" % k)
    for k in (1, 2, 5, 16, 100, 230, 231, 232, 300):
        offset(rng.randrange(10**6, 10**7), -k * HL, "%d half-lives ahead" % k)
    # negative exponents with non-integer fractions
    for f in (-1.5, -2.25, -7.125, -0.3, -12.7):
        offset(rng.randrange(10**5, 10**7), round(f * HL), "%s half-lives" % f)
    # far behind block 1's schedule: upper clamp at pow_limit
    a = anchor()
    cases.append((2, ideal(2, a) + 8 * HL, a, "8 half-lives behind: 2^239, under the limit"))
    cases.append((2, ideal(2, a) + 9 * HL, a, "9 half-lives behind: 2^240, clamped to pow_limit"))
    cases.append((100, ideal(100, a) + 30 * DAY, a, "a month behind: clamped to pow_limit"))
    cases.append((5, G + 10 * 365 * DAY, G + 1, "ten years behind: clamped to pow_limit"))
    cases.append((2, U64_MAX, G + 1, "parent time u64::MAX: clamped to pow_limit"))
    # far ahead of block 1's schedule: lower clamp at 1
    cases.append((10**9, a + 1, a, "a billion blocks in 1 ms: clamped to 1"))
    cases.append((U64_MAX, G + 2, G + 1, "height u64::MAX: clamped to 1"))
    cases.append((100000, a + 1000, a, "far ahead: clamped to 1"))
    cases.append((10**6, ideal(10**6, a) - 231 * HL, a, "231 half-lives ahead: exactly 1"))
    cases.append((10**6, ideal(10**6, a) - 232 * HL, a, "232 half-lives ahead: 0, clamped to 1"))
    cases.append((5, G + 1, U64_MAX, "parent before its anchor: clamped to 1"))
    # the genesis-anchored rule's trap: anchored at block 1 this is on schedule
    a = G + 2 * 365 * DAY
    cases.append((3, a + 2 * S, a, "two years after genesis, on schedule: genesis bits"))
    # random
    for _ in range(8):
        offset(rng.randrange(10**4, 10**7), rng.randrange(-20 * HL, 20 * HL), "random")

    out = []
    for h, t, a, note in cases:
        assert 0 <= h <= U64_MAX and 0 <= t <= U64_MAX
        assert a is None or 0 <= a <= U64_MAX
        # Valid chains have every block after block 1 later than it (median
        # time past); one case breaks that on purpose, for the arithmetic.
        assert h == 0 or t > a or (h == 1 and t == a) or note.startswith("parent before")
        target = asert_target(h, t, a)
        out.append({"parent_height": h, "parent_time": t, "anchor_time": a,
                    "target": h64(target), "bits": get_compact(target), "note": note})

    by_note = {c["note"]: c for c in out}
    assert out[0]["bits"] == 0x1E008000
    assert all(c["bits"] == 0x1E008000 for c in out if c["note"] == "parent is block 1")
    assert by_note["9 half-lives behind: 2^240, clamped to pow_limit"]["target"] == h64(DEVNET_POW_LIMIT)
    assert by_note["8 half-lives behind: 2^239, under the limit"]["target"] == h64(2**239)
    assert by_note["231 half-lives ahead: exactly 1"]["target"] == h64(1)
    assert by_note["232 half-lives ahead: 0, clamped to 1"]["target"] == h64(1)

    write_json("asert.json", {"devnet": {
        "genesis_time": G, "spacing_ms": S, "half_life_ms": HL,
        "initial_target": h64(DEVNET_INITIAL_TARGET), "pow_limit": h64(DEVNET_POW_LIMIT),
        "cases": out, "chains": gen_asert_chains(arng)}})
    return len(out)


def gen_asert_chains(arng):
    """Whole devnet chains (times only, no proof of work): the bits every block
    must carry, so that a walk from genesis checks block 1 and the anchor."""
    G, S, HL = GENESIS_TIME, DEVNET_SPACING_MS, DEVNET_HALF_LIFE_MS
    DAY = 24 * 3600 * 1000
    plans = [
        # (time of block 1, intervals of the blocks after it)
        (G + 1, [S] * 20),
        (G + 200 * DAY, [arng.randrange(1, 6 * S) for _ in range(60)]),
        (G + 400 * DAY, [1] * 40 + [3 * HL] + [S] * 10),
        (G + 30 * DAY, [arng.randrange(1, 3 * S) for _ in range(30)] + [2 * HL, 5 * HL]
         + [arng.randrange(1, 3 * S) for _ in range(30)]),
    ]
    chains = []
    for block_one, intervals in plans:
        times = [block_one]
        for interval in intervals:
            times.append(times[-1] + interval)
        bits = []
        for height in range(1, len(times) + 1):
            parent_height = height - 1
            parent_time = G if parent_height == 0 else times[parent_height - 1]
            anchor = None if parent_height == 0 else block_one
            bits.append(get_compact(asert_target(parent_height, parent_time, anchor)))
        assert bits[0] == bits[1] == 0x1E008000
        chains.append({"times": times, "bits": bits})
    return chains


# ---------------------------------------------------------------------------
# 4. merkle.json
# ---------------------------------------------------------------------------

def gen_merkle():
    out = []
    for n in (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 33):
        leaves = [rand_bytes(32) for _ in range(n)]
        root = mth(leaves)
        indexes = list(range(n)) if n <= 17 else [0, 1, 15, 16, 31, 32]
        proofs = []
        for i in indexes:
            path = audit_path(i, leaves)
            assert verify_audit_path(i, n, leaves[i], path, root)
            proofs.append({"index": i, "path": [hx(p) for p in path]})
        out.append({"leaves": [hx(l) for l in leaves], "root": hx(root), "proofs": proofs})
    write_json("merkle.json", out)


# ---------------------------------------------------------------------------
# 5. state.json
# ---------------------------------------------------------------------------

def gen_state():
    out = []
    special = [0, 1, U64_MAX]
    for n in (0, 1, 2, 3, 5, 8, 50):
        accounts = {}
        while len(accounts) < n:
            bal = rng.choice(special) if rng.random() < 0.3 else rng.getrandbits(64)
            non = rng.choice(special) if rng.random() < 0.3 else rng.getrandbits(rng.choice([8, 64]))
            accounts[rand_bytes(20)] = (bal, non)
        root = state_root(accounts)
        out.append({
            "accounts": [{"address": hx(a), "balance": b, "nonce": x}
                         for a, (b, x) in accounts.items()],
            "root": hx(root),
        })
    write_json("state.json", out)


# ---------------------------------------------------------------------------
# 6. addresses.json
# ---------------------------------------------------------------------------

def gen_addresses():
    valid = []
    raws = [bytes(20), b"\xff" * 20] + [rand_bytes(20) for _ in range(8)]
    for raw in raws:
        e = {"bytes": hx(raw), "rblk": encode_address("rblk", raw),
             "tblk": encode_address("tblk", raw), "blk": encode_address("blk", raw)}
        assert decode_address("tblk", e["tblk"]) == (raw, None)
        assert decode_address("rblk", e["rblk"]) == (raw, None)
        assert decode_address("blk", e["blk"]) == (raw, None)
        valid.append(e)
    up = rand_bytes(20)
    valid.append({"bytes": hx(up), "rblk": encode_address("rblk", up).upper(),
                  "tblk": encode_address("tblk", up).upper(),
                  "blk": encode_address("blk", up).upper(), "upper": True})

    raw = rand_bytes(20)
    good = encode_address("tblk", raw)
    invalid = []

    def add(s, reason):
        dec, why = decode_address("tblk", s)
        assert dec is None, (s, reason)
        invalid.append({"string": s, "prefix": "tblk", "reason": reason})

    # one character changed in the data part
    for pos in (5, 20, len(good) - 1):
        c = good[pos]
        repl = CHARSET[(CHARSET.index(c) + 1 + rng.randrange(31)) % 32]
        add(good[:pos] + repl + good[pos + 1:], "checksum: one character changed")
    # bech32 (constant 1) instead of bech32m
    add(bech32_encode_5bit("tblk", convertbits(raw, 8, 5, True), BECH32_CONST),
        "checksum: bech32, not bech32m")
    # mixed case
    add(good[:10].upper() + good[10:], "mixed case")
    # wrong prefix
    add(encode_address("rblk", raw), "wrong prefix: rblk address checked as tblk")
    add(encode_address("blk", raw), "wrong prefix: blk address checked as tblk")
    # payload length
    add(bech32_encode_5bit("tblk", convertbits(rand_bytes(19), 8, 5, True)),
        "payload of 19 bytes")
    add(bech32_encode_5bit("tblk", convertbits(rand_bytes(21), 8, 5, True)),
        "payload of 21 bytes")
    # padding: 20 bytes are exactly 32 groups, so padding only exists for other
    # group counts. 31 groups = 155 bits = 19 bytes + 3 non-zero padding bits.
    d31 = convertbits(rand_bytes(19), 8, 5, True)
    d31[-1] |= 0b00111
    add(bech32_encode_5bit("tblk", d31), "non-zero padding bits (31 groups: 19 bytes + 3 padding bits)")
    # 33 groups = 165 bits: 20 bytes followed by 5 zero padding bits (too much padding)
    add(bech32_encode_5bit("tblk", convertbits(raw, 8, 5, True) + [0]),
        "too many padding bits (33 groups: 20 bytes + 5 zero bits)")
    # invalid character ('b' is not in the bech32 alphabet)
    add(good[:12] + "b" + good[13:], "invalid character 'b'")
    add(good[:12] + "o" + good[13:], "invalid character 'o'")
    # empty data
    add(bech32_encode_5bit("tblk", []), "empty data")
    # other malformed strings
    add("tblk1", "no checksum")
    add(good.replace("1", "", 1) if good.count("1") == 1 else "tblkqqqqqqqq", "no separator")
    add("", "empty string")

    write_json("addresses.json", {"valid": valid, "invalid": invalid})


# ---------------------------------------------------------------------------
# 7. rsa.json
# ---------------------------------------------------------------------------

def gen_rsa():
    keys = [rsa.generate_private_key(65537, 3072) for _ in range(3)]
    key_entries = []
    for k in keys:
        spki = spki_der(k.public_key())
        addr = address_of_spki(spki)
        key_entries.append({"pkcs8": hx(pkcs8_der(k)), "spki": hx(spki), "address": hx(addr),
                            "tblk": encode_address("tblk", addr),
                            "rblk": encode_address("rblk", addr)})

    bad_keys = []
    for bits, reason in ((2048, "size"), (4096, "size")):
        bad_keys.append({"spki": hx(spki_der(rsa.generate_private_key(65537, bits).public_key())),
                         "reason": reason})
    bad_keys.append({"spki": hx(spki_der(rsa.generate_private_key(3, 3072).public_key())),
                     "reason": "exponent"})
    # cryptography will not generate e=17; reuse a 3072-bit modulus with e = 17
    n = keys[0].public_key().public_numbers().n
    bad_keys.append({"spki": hx(spki_der(rsa.RSAPublicNumbers(17, n).public_key())),
                     "reason": "exponent"})

    spkis = [spki_der(k.public_key()) for k in keys]
    sigs = []

    def add(i, msg, sig, valid, note):
        assert verify_message(spkis[i], msg, sig) == valid, note
        sigs.append({"spki": hx(spkis[i]), "message": hx(msg), "signature": hx(sig),
                     "valid": valid, "note": note})

    for j in range(5):
        i = j % 3
        msg = rand_bytes(36)
        add(i, msg, sign_message(keys[i], msg), True, "valid PSS SHA-256 MGF1-SHA-256 salt 32")

    k0 = keys[0]
    msg = rand_bytes(36)
    for salt in (0, 20, 64):
        s = k0.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt),
                    hashes.SHA256())
        add(0, msg, s, False, "PSS salt length %d" % salt)
    s = k0.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA1()), salt_length=32), hashes.SHA256())
    add(0, msg, s, False, "PSS with MGF1-SHA-1 (hash SHA-256, salt 32)")
    s = k0.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA1())
    add(0, msg, s, False, "PSS with message hash SHA-1 (MGF1-SHA-256, salt 32)")
    s = k0.sign(msg, padding.PKCS1v15(), hashes.SHA256())
    add(0, msg, s, False, "PKCS#1 v1.5 SHA-256 signature")
    other = rand_bytes(36)
    add(0, msg, sign_message(k0, other), False, "valid signature over a different message")
    good = bytearray(sign_message(k0, msg))
    good[200] ^= 0x04
    add(0, msg, bytes(good), False, "valid signature with one bit flipped")
    add(0, msg, sign_message(keys[1], msg), False, "signature made by another key")
    add(0, msg, n.to_bytes(384, "big"), False, "signature value = modulus (>= modulus)")
    add(0, msg, b"\xff" * 384, False, "signature value all 0xff (> modulus)")
    add(0, msg, bytes(384), False, "all-zero signature")
    add(0, msg, sign_message(k0, msg)[:383], False, "valid signature truncated to 383 bytes")
    add(0, msg, sign_message(k0, msg) + b"\x00", False, "valid signature with a trailing zero byte (385 bytes)")
    # a valid signature whose first byte is 0, sent as 383 bytes
    for _ in range(4000):
        m = rand_bytes(36)
        s = sign_message(k0, m)
        if s[0] == 0:
            assert verify_message(spkis[0], m, s)
            add(0, m, s, True, "valid signature whose first byte is 0x00")
            add(0, m, s[1:], False, "the previous valid signature with its leading zero byte stripped (383 bytes)")
            break
    else:
        print("note: no signature with a leading zero byte found; 383-byte case skipped")

    txs = []
    for j in range(6):
        network = "devnet" if j % 2 == 0 else "regtest"
        ki = j % 3
        to = rand_bytes(20)
        amount = rng.choice([1, rng.getrandbits(40), U64_MAX - 1000])
        fee = 0 if j == 3 else rng.getrandbits(16)
        nonce = rng.choice([0, rng.getrandbits(16), U64_MAX - 1])
        time = GENESIS_TIME + rng.getrandbits(32)
        unsigned = tx_unsigned(spkis[ki], to, amount, fee, nonce, time)
        txid, signed = sign_tx(keys[ki], network, unsigned)
        assert verify_message(spkis[ki], NETWORKS[network]["magic"] + txid, signed[-384:])
        txs.append({"network": network, "key_index": ki, "to": hx(to), "amount": amount,
                    "fee": fee, "nonce": nonce, "time": time, "unsigned": hx(unsigned),
                    "txid": hx(txid), "signed": hx(signed)})

    write_json("rsa.json", {"keys": key_entries, "bad_keys": bad_keys,
                            "signatures": sigs, "transactions": txs})
    return keys


# ---------------------------------------------------------------------------
# 8. keystore.json
# ---------------------------------------------------------------------------

def b64(b):
    return base64.b64encode(b).decode("ascii")


def make_keystore(priv, password):
    spki = spki_der(priv.public_key())
    pem = priv.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    salt = os.urandom(16)
    iv = os.urandom(12)
    kek = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt,
                     iterations=600000).derive(password.encode("utf-8"))
    encrypted = AESGCM(kek).encrypt(iv, pkcs8_der(priv), None)
    return {
        "version": 1,
        "network": "devnet",
        "address": encode_address("tblk", address_of_spki(spki)),
        "public_key": pem,
        "encrypted_private_key": {
            "kdf": "pbkdf2-hmac-sha256",
            "iterations": 600000,
            "salt": b64(salt),
            "cipher": "aes-256-gcm",
            "iv": b64(iv),
            "encrypted": b64(encrypted),
        },
    }


def open_keystore(ks, password):
    e = ks["encrypted_private_key"]
    kek = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=base64.b64decode(e["salt"]),
                     iterations=e["iterations"]).derive(password.encode("utf-8"))
    return AESGCM(kek).decrypt(base64.b64decode(e["iv"]), base64.b64decode(e["encrypted"]), None)


def gen_keystore(keys):
    out = []
    for priv, password, wrong in ((keys[0], "correct horse battery staple", "correct horse battery stapler"),
                                  (keys[1], "pässwörd ✓ 2026", "passwort")):
        ks = make_keystore(priv, password)
        assert open_keystore(ks, password) == pkcs8_der(priv)
        try:
            open_keystore(ks, wrong)
            raise AssertionError("wrong password opened the keystore")
        except Exception as ex:  # cryptography.exceptions.InvalidTag
            assert type(ex).__name__ == "InvalidTag"
        out.append({"password": password, "keystore": ks, "pkcs8": hx(pkcs8_der(priv)),
                    "wrong_password": wrong})
    write_json("keystore.json", out)


# ---------------------------------------------------------------------------
# 9. chain_regtest.json
# ---------------------------------------------------------------------------

def gen_chain(keys):
    net = "regtest"
    bits = NETWORKS[net]["genesis_bits"]
    target = decode_bits(bits)
    spkis = [spki_der(k.public_key()) for k in keys]
    addrs = [address_of_spki(s) for s in spkis]

    state = {}  # address -> [balance, nonce]

    def credit(addr, amount):
        acct = state.setdefault(addr, [0, 0])
        acct[0] += amount
        assert acct[0] <= U64_MAX

    def apply_tx(sender_index, to, amount, fee):
        addr = addrs[sender_index]
        acct = state[addr]
        assert amount > 0 and amount + fee <= acct[0]
        acct[0] -= amount + fee
        acct[1] += 1
        credit(to, amount)

    # block plans: (miner index, [(sender, recipient, amount, fee, nonce)])
    plans = [
        (0, []),
        (1, [(0, 1, 1_000_000_000, 1000, 0)]),
        (0, [(0, 2, 250_000_000, 50, 1), (1, 0, 123_456_789, 7, 0)]),
    ]

    prev = genesis_header(net)
    prev_hash = sha256(prev)
    blocks = []
    for height, (miner, txplan) in enumerate(plans, start=1):
        time = GENESIS_TIME + 1000 * height
        fees = sum(t[3] for t in txplan)
        cb_txid, cb_enc = coinbase(addrs[miner], REWARD + fees, height, time)
        txids, encs = [cb_txid], [cb_enc]
        credit(addrs[miner], REWARD + fees)
        for (s, r, amount, fee, nonce) in txplan:
            assert state[addrs[s]][1] == nonce
            unsigned = tx_unsigned(spkis[s], addrs[r], amount, fee, nonce, time - 100)
            txid, enc = sign_tx(keys[s], net, unsigned)
            txids.append(txid)
            encs.append(enc)
            apply_tx(s, addrs[r], amount, fee)
        sroot = state_root({a: tuple(v) for a, v in state.items()})
        mroot = mth(txids)
        nonce = 0
        while True:
            header = encode_header(1, height, prev_hash, mroot, sroot, time, bits, nonce)
            h = sha256(header)
            if int.from_bytes(h, "big") <= target:
                break
            nonce += 1
        block = header + u32(len(encs)) + b"".join(encs)
        assert len(block) <= 1_000_000
        blocks.append({
            "height": height,
            "hash": hx(h),
            "block": hx(block),
            "state_root": hx(sroot),
            "accounts_after": [{"address": hx(a), "balance": v[0], "nonce": v[1]}
                               for a, v in sorted(state.items())],
        })
        prev_hash = h

    write_json("chain_regtest.json", {"keys": [hx(pkcs8_der(k)) for k in keys], "blocks": blocks})


# ---------------------------------------------------------------------------

def main():
    global OUT, ONLY
    args = sys.argv[1:]
    if args[:1] == ["--out"]:
        OUT, args = os.path.abspath(args[1]), args[2:]
    unknown = [name for name in args if name not in FILES]
    if unknown:
        print("unknown file(s) %s; known: %s" % (", ".join(unknown), ", ".join(FILES)))
        return 2
    ONLY = set(args)
    os.makedirs(OUT, exist_ok=True)
    gen_headers()
    gen_compact()
    n_asert = gen_asert()
    gen_merkle()
    gen_state()
    gen_addresses()
    keys = gen_rsa()
    gen_keystore(keys)
    gen_chain(keys)
    total = 0
    for name, size in written:
        print("%-20s %8d bytes" % (name, size))
        total += size
    print("%-20s %8d bytes (asert cases: %d)" % ("total", total, n_asert))
    return 0


if __name__ == "__main__":
    sys.exit(main())
