#!/usr/bin/env python3
"""Writes certificates/invalid/v2/spectral-error-*.json: one broken version 2 certificate
per rule of docs/FORMAT.md section 12.9 and of the version rule of 12.1, each a single edit
of a committed valid certificate (tiny-3-2-1-spectral-errors.json for the claim rules,
random-33-33-spectral-errors.json for the witness rules). Run from the repository root;
needs only the standard library. tests/spectral_errors.rs checks the result."""

import copy
import json
from fractions import Fraction

V2 = "certificates/v2/"
OUT = "certificates/invalid/v2/spectral-error-"


def load(name):
    with open(V2 + name) as f:
        return json.load(f)


def text(x):
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def write(name, cert, note):
    cert = copy.deepcopy(cert)
    cert["meta"] = {"note": note}
    with open(OUT + name + ".json", "w") as f:
        json.dump(cert, f, indent=1)
        f.write("\n")


tiny = load("tiny-3-2-1-spectral-errors.json")
wide = load("random-33-33-spectral-errors.json")
assert tiny["bound"]["blocks"][0]["error_method"] == "spectral"
assert "error_witness" in wide["bound"]["blocks"][0]

c = copy.deepcopy(tiny)
b = c["bound"]["blocks"][0]
b["error"] = text(Fraction(b["error"]) * Fraction(9, 10))
write("too-small", c, "block 1's spectral error claim times 9/10 is below ||M_1||_2")

c = copy.deepcopy(tiny)
b = c["bound"]["blocks"][0]
b["error"] = text(-Fraction(b["error"]))
write("negative", c, "block 1's spectral error claim negated: c_1 < 0")

c = copy.deepcopy(tiny)
c["bound"]["blocks"][0]["error_method"] = "operator"
write("unknown-method", c, "error_method is neither frobenius nor spectral")

c = copy.deepcopy(tiny)
c["version"] = 1
write("method-in-version-1", c, "a version 1 certificate with error_method")

c = copy.deepcopy(tiny)
for b in c["bound"]["blocks"]:
    b.pop("error_method", None)
    b["error"] = "1"
c["bound"]["epsilon"] = "1000000"
write("version-2-without-either", c,
      "version 2 with neither terms nor an error_method (c_i = 1 and epsilon = 10^6 hold under Frobenius)")

c = copy.deepcopy(wide)
c["bound"]["blocks"][0]["error_method"] = "frobenius"
c["bound"]["blocks"][0]["error"] = "100"
c["bound"]["epsilon"] = "1000000"
write("witness-without-spectral", c,
      "error_witness with error_method frobenius (c_1 = 100 and epsilon = 10^6 hold under Frobenius)")

c = copy.deepcopy(wide)
c["bound"]["blocks"][0]["error_witness"]["factor"][1].pop()
write("witness-shape", c, "row 1 of the error witness factor has one entry too few")

c = copy.deepcopy(wide)
w = c["bound"]["blocks"][0]["error_witness"]
w["shift"] = text(-Fraction(w["shift"]))
write("witness-negative-shift", c, "the error witness shift is negated")

c = copy.deepcopy(wide)
w = c["bound"]["blocks"][0]["error_witness"]
w["factor"][0][0] = text(Fraction(w["factor"][0][0]) * Fraction(3, 2))
write("witness-invalid", c, "R[0][0] of the error witness times 3/2: sum D^2 > shift^2")
