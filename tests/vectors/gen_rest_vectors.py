#!/usr/bin/env python3
"""Transactions signed outside the node, for the REST end-to-end tests.

Reuses the reference implementation in gen_vectors.py (encoding, txid,
RSA-PSS signing with Python `cryptography`) and the keys of
core/tests/data/rsa.json, and writes tests/data/rest_transactions.json:
transactions in the JSON that POST /api/v1/transactions takes, from key 0
(which the tests fund by mining), with nonces 0, 1, 2.

Run from the repository root: python3 tests/vectors/gen_rest_vectors.py
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_vectors as ref  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

ROOT = ref.ROOT


def main():
    with open(os.path.join(ROOT, "core", "tests", "data", "rsa.json")) as f:
        keys = json.load(f)["keys"]
    sender = serialization.load_der_private_key(bytes.fromhex(keys[0]["pkcs8"]), password=None)
    spki = ref.spki_der(sender.public_key())
    out = {"sender_key_index": 0, "sender_address": {}, "transactions": {}}
    for network, prefix in (("regtest", "rblk"), ("devnet", "tblk")):
        out["sender_address"][network] = ref.encode_address(prefix, ref.address_of_spki(spki))
        txs = []
        for nonce, (to_key, amount, fee) in enumerate([(1, 1_000_000_000, 1_000), (2, 250_000_000, 5_000), (1, 1, 0)]):
            to = bytes.fromhex(keys[to_key]["address"])
            time = 1_764_000_100_000 + nonce
            unsigned = ref.tx_unsigned(spki, to, amount, fee, nonce, time)
            _, signed = ref.sign_tx(sender, network, unsigned)
            signature = signed[len(unsigned) + 4:]
            txs.append({
                "txid": ref.sha256(unsigned).hex(),
                "json": {
                    "version": 1,
                    "sender": spki.hex(),
                    "recipient": ref.encode_address(prefix, to),
                    "amount": amount,
                    "fee": fee,
                    "nonce": nonce,
                    "timestamp": time,
                    "signature": signature.hex(),
                },
            })
        out["transactions"][network] = txs
    path = os.path.join(ROOT, "tests", "data", "rest_transactions.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
