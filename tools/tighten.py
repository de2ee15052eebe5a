#!/usr/bin/env python3
"""Add version 2's telescoping terms to a slth certificate (docs/FORMAT.md section 12).

Untrusted helper: it finds the multipliers, products and witness of every term with a
numerical SDP solver (cvxpy), and `slth verify` decides, exactly, whether they prove what the
new certificate claims. Nothing in slth's build or tests needs it; it needs Python 3 with
numpy and cvxpy (`pip install numpy cvxpy`).

    python3 tools/tighten.py certificates/digits-64-32-10.json -o out.json

The ticket, the target, the domain and the version 1 claims are copied unchanged; the
version becomes 2, `bound.terms` is added and `bound.epsilon` becomes r * sum lambda_i
(rounded up to 6 significant digits) when that is below the version 1 epsilon.
"""
import argparse, json, math, sys
from fractions import Fraction

import numpy as np
import cvxpy as cp


def F(text):
    return Fraction(text)


def text(x):
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"


def round_up(x, digits=6):
    """The smallest decimal with `digits` significant digits that is >= x (x > 0)."""
    x = Fraction(x)
    if x <= 0:
        return Fraction(0)
    e = math.floor(math.log10(float(x))) - digits + 1
    unit = Fraction(10) ** e
    return math.ceil(x / unit) * unit


def chain(cert):
    """Exact (Fraction) W, P, Q per block, and whether block 1 is signed."""
    layers = cert["target"]["layers"]
    Ws = [[[F(x) for x in row] for row in layer["weights"]] for layer in layers]
    Ps, Qs = [], []
    for block, W in zip(cert["ticket"], Ws):
        rows, cols = len(W), len(W[0])
        hidden = {j: (t, F(v)) for j, t, v in block["hidden"]}
        P = [[Fraction(0)] * cols for _ in range(rows)]
        Q = [[Fraction(0)] * cols for _ in range(rows)]
        for m, j, v in block["output"]:
            t, u = hidden[j]
            (P if u > 0 else Q)[m][t] += F(v) * u
        Ps.append(P)
        Qs.append(Q)
    return Ws, Ps, Qs, not cert["domain"].get("nonnegative", False)


def chain_matrices(Ws, Ps, Qs, signed, i):
    """A_1..A_l of term i (1-based) as float arrays, as docs/FORMAT.md section 12 defines."""
    out = []
    for k in range(1, len(Ws) + 1):
        W, P, Q = (np.array(M, dtype=float) for M in (Ws[k - 1], Ps[k - 1], Qs[k - 1]))
        if k < i:
            A = np.hstack([P, -Q]) if (k == 1 and signed) else P
        elif k == i:
            A = np.hstack([P - W, W - Q]) if (k == 1 and signed) else P - W
        else:
            A = W
        out.append(A)
    return out


def quadratic_form(As, i, lam2, ts, products):
    """Q of docs/FORMAT.md section 12 in floats (numbers or cvxpy expressions)."""
    l = len(As)
    sizes = [As[0].shape[1]] + [A.shape[0] for A in As[:-1]]
    N = sum(sizes)
    offs = np.cumsum([0] + sizes)

    def sel(k):
        S = np.zeros((sizes[k], N))
        S[:, offs[k]:offs[k + 1]] = np.eye(sizes[k])
        return S

    signs = [sel(0)]
    for k in range(1, i):
        Hk, Zk = sel(k), As[k - 1] @ sel(k - 1)
        signs += [Hk, Hk - Zk]
    L = np.vstack(signs)
    Q = lam2 * (sel(0).T @ sel(0)) - (As[-1] @ sel(l - 1)).T @ (As[-1] @ sel(l - 1))
    for k in range(1, l):
        Hk, Zk = sel(k), As[k - 1] @ sel(k - 1)
        T = cp.diag(ts[k - 1]) if isinstance(ts[k - 1], cp.Expression) else np.diag(ts[k - 1])
        Q = Q - (Hk.T @ T @ (Zk - Hk) + (Zk - Hk).T @ T @ Hk)
    Q = Q - L.T @ products @ L
    return Q, N, L.shape[0]


def solve_term(As, i, margin):
    l = len(As)
    sizes = [A.shape[0] for A in As[:-1]]
    lam2 = cp.Variable(nonneg=True)
    ts = [cp.Variable(n) for n in sizes]
    cons = [ts[k] >= 0 for k in range(l - 1) if k + 1 >= i]
    S = As[0].shape[1] + 2 * sum(sizes[: i - 1])
    Nn = cp.Variable((S, S), symmetric=True)
    cons.append(Nn >= 0)
    Q, N, _ = quadratic_form(As, i, lam2, ts, Nn)
    sym = (Q + Q.T) / 2
    cons.append(sym >> margin * np.eye(N))
    cp.Problem(cp.Minimize(lam2), cons).solve(solver="CLARABEL")
    return lam2.value, [np.maximum(t.value, 0) if k + 1 >= i else t.value for k, t in enumerate(ts)], Nn.value


def term_for(As, i):
    # The error matrix A_i is tiny; the SDP is solved with A_i / c (c = ||A_i||_2), whose
    # solution maps back exactly: lambda = c lambda', t_k = c^2 t'_k for k < i, products c^2.
    c = float(np.linalg.norm(As[i - 1], 2)) or 1.0
    scaled = [A / c if k == i - 1 else A for k, A in enumerate(As)]
    # First a rough optimum, then a strictly feasible one with a margin of 1e-3 of it.
    lam2, _, _ = solve_term(scaled, i, 0.0)
    margin = max(lam2, 1e-12) * 1e-3
    lam2, ts, Nn = solve_term(scaled, i, margin)
    lam2 *= c * c
    ts = [t * c * c if k + 1 < i else t for k, t in enumerate(ts)]
    Nn = Nn * c * c
    lam = round_up(Fraction(math.sqrt(lam2 * (1 + 1e-6))))
    ts = [[Fraction(float(x)) for x in t] for t in ts]
    S = Nn.shape[0]
    products = []
    Nexact = np.zeros((S, S))
    top = max(float(Nn.max()), 0.0)
    for a in range(S):
        for b in range(a, S):
            v = float(Nn[a, b])
            if v > top * 1e-9 and v > 0:
                value = v if a == b else 2 * v
                products.append([a, b, text(Fraction(value))])
                Nexact[a, b] += v if a == b else v
                if a != b:
                    Nexact[b, a] += v
    Q, N, _ = quadratic_form(As, i, float(lam) ** 2, [np.array([float(x) for x in t]) for t in ts], Nexact)
    Q = (Q + Q.T) / 2
    low = float(np.linalg.eigvalsh(Q).min())
    if low <= 0:
        raise SystemExit(f"term {i}: the rounded form is not positive definite (min eigenvalue {low})")
    shift = Fraction(low / 2)
    R = np.linalg.cholesky(Q - float(shift) * np.eye(N)).T
    residual = np.linalg.norm(Q - float(shift) * np.eye(N) - R.T @ R)
    if residual > float(shift) / 4:
        raise SystemExit(f"term {i}: Cholesky residual {residual} too large against shift {float(shift)}")
    return {
        "lipschitz": text(lam),
        "multipliers": [[text(x) for x in t] for t in ts],
        "products": products,
        "witness": {
            "shift": text(shift),
            "factor": [[text(Fraction(float(R[a, c]))) for c in range(a, N)] for a in range(N)],
        },
    }, lam


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("certificate")
    parser.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    cert = json.load(open(args.certificate))
    if cert.get("version") != 1:
        raise SystemExit(f"{args.certificate}: expected a version 1 certificate")
    Ws, Ps, Qs, signed = chain(cert)
    radius = F(cert["domain"]["radius"])
    terms, lams = [], []
    for i in range(1, len(Ws) + 1):
        term, lam = term_for(chain_matrices(Ws, Ps, Qs, signed, i), i)
        terms.append(term)
        lams.append(lam)
        print(f"term {i}: lambda = {float(lam):.6g}", file=sys.stderr)
    telescoping = radius * sum(lams)
    epsilon = min(F(cert["bound"]["epsilon"]), round_up(telescoping))
    print(f"r * sum lambda = {float(telescoping):.6g}; epsilon {cert['bound']['epsilon']} -> {text(epsilon)}",
          file=sys.stderr)
    v1_epsilon = cert["bound"]["epsilon"]
    cert["version"] = 2
    cert["bound"]["terms"] = terms
    cert["bound"]["epsilon"] = text(epsilon)
    meta = cert.get("meta") or {}
    meta["tightened_by"] = f"tools/tighten.py (cvxpy {cp.__version__}, CLARABEL)"
    meta["epsilon_version_1"] = v1_epsilon
    cert["meta"] = meta
    with open(args.output, "w") as out:
        json.dump(cert, out, indent=1)
        out.write("\n")


if __name__ == "__main__":
    main()
