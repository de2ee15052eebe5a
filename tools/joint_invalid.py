#!/usr/bin/env python3
"""Writes certificates/invalid/v2/joint-*.json: one broken version 2 certificate per check
of docs/FORMAT.md section 12.10.3 and per rule of 12.1 and 12.10.4 about the joint form,
each a single edit of the valid certificates/v2/tiny-3-2-1-joint.json (l = 2: one head
row, one chain of one row, S = N = 10). Run from the repository root; needs only the
standard library. tests/joint.rs checks the result."""

import copy
import json
from fractions import Fraction

BASE = "certificates/v2/tiny-3-2-1-joint.json"
OUT = "certificates/invalid/v2/joint-"


def text(x):
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def write(name, cert, note):
    cert = copy.deepcopy(cert)
    cert["meta"] = {"note": note}
    with open(OUT + name + ".json", "w") as f:
        json.dump(cert, f, indent=1)
        f.write("\n")


with open(BASE) as f:
    base = json.load(f)
joint = base["bound"]["joint"]
assert base["version"] == 2 and "terms" not in base["bound"]
assert len(joint["head"]) == 1 and len(joint["chains"]) == 1 and len(joint["chains"][0]) == 1
assert Fraction(joint["chains"][0][0][0]) > 0
products = joint["products"]
assert len(products) >= 2 and Fraction(products[0][2]) > 0
S = 6 + 2 * 2  # m_0 = 2 n_0 (signed), then y_1 and y_1 - B_1 u
assert all(b < S for _, b, _ in products)


def edit(f):
    c = copy.deepcopy(base)
    f(c, c["bound"]["joint"])
    return c


r = Fraction(base["domain"]["radius"])
lam = Fraction(joint["lipschitz"])


def negative_lambda(c, j):
    j["lipschitz"] = text(-lam)


write("negative-lambda", edit(negative_lambda),
      "the joint form's lambda negated (lambda^2, hence Q, unchanged): check 1, lambda >= 0")


def head_rows(c, j):
    j["head"].pop()


write("head-row-count", edit(head_rows), "head has no row; l - 1 = 1 required (check 2)")


def head_row_length(c, j):
    j["head"][0].pop()


write("head-row-length", edit(head_row_length),
      "head row 0 has 1 entry; n_1 = 2 required (check 2)")


def chains_count(c, j):
    j["chains"].pop()


write("chains-count", edit(chains_count), "chains is empty; l - 1 = 1 chain required (check 2)")


def chain_rows(c, j):
    j["chains"][0].append(list(j["chains"][0][0]))


write("chain-row-count", edit(chain_rows),
      "chain 1 has 2 rows, a copy of its row appended; l - i = 1 required (check 2)")


def chain_row_length(c, j):
    j["chains"][0][0].pop()


write("chain-row-length", edit(chain_row_length),
      "chain 1's row 0 has 1 entry; n_1 = 2 required (check 2)")


def negative_chain(c, j):
    j["chains"][0][0][0] = text(-Fraction(j["chains"][0][0][0]))


write("negative-chain-multiplier", edit(negative_chain),
      "chain 1's first multiplier negated; a chain's multipliers must be >= 0 (check 2)")


def product_out_of_range(c, j):
    j["products"][-1][1] = S


write("product-index-out-of-range", edit(product_out_of_range),
      f"the last product's b set to S = {S}, beyond the quantities (check 3)")


def products_unsorted(c, j):
    p = j["products"]
    p[0], p[1] = p[1], p[0]


write("products-unsorted", edit(products_unsorted),
      "the first two products swapped: the list is not sorted by (a, b) (check 3)")


def negative_product(c, j):
    j["products"][0][2] = text(-Fraction(j["products"][0][2]))


write("negative-product", edit(negative_product), "the first product's weight negated: v < 0 (check 3)")


def witness_shape(c, j):
    j["witness"]["factor"][1].pop()


write("witness-shape", edit(witness_shape),
      "row 1 of the witness factor has N - 2 = 8 entries; N - 1 = 9 required (check 4)")


def negative_shift(c, j):
    j["witness"]["shift"] = text(-Fraction(j["witness"]["shift"]))


write("witness-negative-shift", edit(negative_shift), "the witness shift negated (check 4)")


def witness_invalid(c, j):
    f = j["witness"]["factor"]
    f[0][0] = text(Fraction(f[0][0]) * Fraction(3, 2))


write("witness-invalid", edit(witness_invalid),
      "R[0][0] of the witness times 3/2: sum D^2 > shift^2 (check 4)")


def lambda_too_small(c, j):
    smaller = lam * Fraction(9, 10)
    j["lipschitz"] = text(smaller)
    c["bound"]["epsilon"] = text(r * smaller)


write("lambda-too-small", edit(lambda_too_small),
      "lambda times 9/10 and epsilon lowered to r times it: epsilon covers r lambda, but the "
      "witness no longer proves Q positive semidefinite (check 4)")


def epsilon_too_small(c, j):
    c["bound"]["epsilon"] = text(r * lam * Fraction(99, 100))


write("epsilon-too-small", edit(epsilon_too_small),
      "epsilon = r lambda times 99/100, below r lambda and below e_l (section 12.1)")


def version_1(c, j):
    c["version"] = 1


write("in-version-1", edit(version_1), "a version 1 certificate with joint (section 12.1)")


def unknown_key(c, j):
    j["note"] = "x"


write("unknown-key", edit(unknown_key),
      "joint has the key note, which section 12.10.4 does not list: joint is a closed object")
