#!/usr/bin/env python3
"""Writes crates/protocol/src/poseidon/t17.bin: the round constants of go-iden3-crypto
v0.0.15's optimised Poseidon (C, S, M, P of the paper's sparse partial rounds) for width
17, the only width HashBytes uses, as 32-byte little-endian integers in the order
C (204), S (2244), M (17 x 17, row-major as M[j][i]), P (17 x 17).

The source is the constant table of bloock-poseidon-rs 0.1.5 (`src/constants.rs`, a
verbatim port of go-iden3-crypto's), read from the cargo registry. Run it only to
regenerate the file; qnode's build and tests never run it. The Poseidon vectors, made by
the original node, are what prove the result.

    python3 scripts/poseidon_constants.py
"""
import ast
import glob
import os
import sys

WIDTH_INDEX = 15  # widths 2..17; HashBytes hashes 16 inputs, width 17
MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def table(source, name):
    start = source.index("vec![", source.index("let %s" % name))
    depth, end = 0, start
    while True:
        if source.startswith("vec![", end):
            depth, end = depth + 1, end + 5
            continue
        if source[end] == "]":
            depth -= 1
            if depth == 0:
                break
        end += 1
    return ast.literal_eval(source[start : end + 1].replace("vec![", "["))


def main():
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    found = glob.glob(home + "/registry/src/*/bloock-poseidon-rs-0.1.5/src/constants.rs")
    if not found:
        sys.exit("bloock-poseidon-rs 0.1.5 is not in the cargo registry: run `cargo fetch` first")
    source = open(found[0]).read()
    values = []
    values += table(source, "c_str")[WIDTH_INDEX]
    values += table(source, "s_str")[WIDTH_INDEX]
    for matrix in ("m_str", "p_str"):
        for row in table(source, matrix)[WIDTH_INDEX]:
            values += row
    out = bytearray()
    for text in values:
        value = int(text, 16)
        assert value < MODULUS, text
        out += value.to_bytes(32, "little")
    target = os.path.join(os.path.dirname(__file__), "../crates/protocol/src/poseidon/t17.bin")
    with open(target, "wb") as f:
        f.write(out)
    print("wrote %d constants to %s" % (len(values), os.path.normpath(target)))


if __name__ == "__main__":
    main()
