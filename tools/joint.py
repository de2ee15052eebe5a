#!/usr/bin/env python3
"""Add version 2's joint form to a slth certificate (docs/FORMAT.md section 12.10).

Untrusted helper, modeled on tools/tighten.py (whose `chain` it imports): it finds the
joint form's lambda, multipliers, products and witness with a numerical SDP solver
(cvxpy), and only the exact checks of section 12.10.3 decide whether they prove what the
new certificate claims. Nothing in slth's build or tests needs it; it needs Python 3 with
numpy and cvxpy (`pip install numpy cvxpy`).

    python3 tools/joint.py certificates/tiny-3-2-1.json -o certificates/v2/tiny-3-2-1-joint.json

The input is a version 1 certificate; the ticket, the target, the domain and the version 1
claims are copied unchanged, the version becomes 2, `bound.joint` is added and
`bound.epsilon` becomes r * lambda (rounded up to 6 significant digits) when that is below
the version 1 epsilon.
"""
import argparse, json, math, os, sys
from fractions import Fraction

import numpy as np
import cvxpy as cp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tighten import F, chain, round_up, text  # noqa: E402


class Layout:
    """The variable w of section 12.10.1: u, the head y_1..y_{l-1}, then every chain's
    tail h^(i)_i..h^(i)_{l-1}; the relations, the output's pieces and the quantities."""

    def __init__(self, Ws, Ps, Qs, signed):
        l = len(Ws)
        W = [np.array(x, dtype=float) for x in Ws]
        P = [np.array(x, dtype=float) for x in Ps]
        Q = [np.array(x, dtype=float) for x in Qs]
        # B_k (g~'s block k) and M_k (block k's error matrix), section 12.2's table.
        self.B = [np.hstack([P[0], -Q[0]]) if signed else P[0]] + P[1:]
        self.M = [np.hstack([P[0] - W[0], W[0] - Q[0]]) if signed else P[0] - W[0]]
        self.M += [P[k] - W[k] for k in range(1, l)]
        self.W = W
        self.l = l
        self.m0 = self.B[0].shape[1]
        self.n = [w.shape[0] for w in W]  # n[k-1] = n_k
        blocks = [("u", self.m0)] + [(("y", k), self.n[k - 1]) for k in range(1, l)]
        for i in range(1, l):
            blocks += [(("h", i, k), self.n[k - 1]) for k in range(i, l)]
        self.offset, pos = {}, 0
        for name, size in blocks:
            self.offset[name] = (pos, size)
            pos += size
        self.N = pos
        self.S = self.m0 + 2 * sum(self.n[: l - 1])

    def sel(self, name):
        o, s = self.offset[name]
        E = np.zeros((s, self.N))
        E[:, o:o + s] = np.eye(s)
        return E

    def y(self, k):
        return self.sel("u") if k == 0 else self.sel(("y", k))

    def relations(self, M):
        """(h, z) selection/linear maps of every relation in the order of 12.10.1, with
        whether its multipliers must be >= 0; M is the list of error matrices used."""
        out = []
        for k in range(1, self.l):
            out.append((self.y(k), self.B[k - 1] @ self.y(k - 1), False))
        for i in range(1, self.l):
            for k in range(i, self.l):
                H = self.sel(("h", i, k))
                Z = M[i - 1] @ self.y(i - 1) if k == i else self.W[k - 1] @ self.sel(("h", i, k - 1))
                out.append((H, Z, True))
        return out

    def output(self, M):
        """Z as a linear map of w: M_l y_{l-1} + sum_i W_l h^(i)_{l-1}."""
        l = self.l
        Z = M[l - 1] @ self.y(l - 1)
        for i in range(1, l):
            Z = Z + self.W[l - 1] @ self.sel(("h", i, l - 1))
        return Z

    def quantities(self):
        """The S quantities as rows: u, then per head block y_k and y_k - B_k y_{k-1}."""
        rows = [self.sel("u")]
        for k in range(1, self.l):
            rows += [self.y(k), self.y(k) - self.B[k - 1] @ self.y(k - 1)]
        return np.vstack(rows)

    def form(self, M, lam2, ts, products):
        """Q of section 12.10.2 (numbers or cvxpy expressions for lam2, ts, products)."""
        U = self.sel("u")
        Z = self.output(M)
        Q = lam2 * (U.T @ U) - Z.T @ Z
        for (H, Zr, _), t in zip(self.relations(M), ts):
            T = cp.diag(t) if isinstance(t, cp.Expression) else np.diag(t)
            Q = Q - (H.T @ T @ (Zr - H) + (Zr - H).T @ T @ H)
        L = self.quantities()
        return Q - L.T @ products @ L


def solve(lay, M, margin):
    lam2 = cp.Variable(nonneg=True)
    rel = lay.relations(M)
    ts = [cp.Variable(H.shape[0]) for H, _, _ in rel]
    cons = [t >= 0 for t, (_, _, nonneg) in zip(ts, rel) if nonneg]
    Nn = cp.Variable((lay.S, lay.S), symmetric=True)
    cons.append(Nn >= 0)
    Q = lay.form(M, lam2, ts, Nn)
    cons.append((Q + Q.T) / 2 >> margin * np.eye(lay.N))
    cp.Problem(cp.Minimize(lam2), cons).solve(solver="CLARABEL")
    return lam2.value, [t.value for t in ts], Nn.value


def joint_for(lay):
    # The error matrices are tiny; the SDP is solved with M_k / c (c the largest ||M_k||_2),
    # which scales every chain by 1/c. Its solution maps back exactly: lambda = c lambda',
    # the head's multipliers and the products times c^2, the chains' multipliers unchanged.
    c = max(float(np.linalg.norm(m, 2)) for m in lay.M) or 1.0
    scaled = [m / c for m in lay.M]
    lam2, _, _ = solve(lay, scaled, 0.0)
    margin = max(lam2, 1e-12) * 1e-3
    lam2, ts, Nn = solve(lay, scaled, margin)
    heads = lay.l - 1
    lam2 *= c * c
    ts = [t * c * c if r < heads else np.maximum(t, 0) for r, t in enumerate(ts)]
    Nn = Nn * c * c
    lam = round_up(Fraction(math.sqrt(lam2 * (1 + 1e-6))))
    ts = [[Fraction(float(x)) for x in t] for t in ts]
    products = []
    Nexact = np.zeros((lay.S, lay.S))
    top = max(float(Nn.max()), 0.0)
    for a in range(lay.S):
        for b in range(a, lay.S):
            v = float(Nn[a, b])
            if v > top * 1e-9 and v > 0:
                products.append([a, b, text(Fraction(v if a == b else 2 * v))])
                Nexact[a, b] += v
                if a != b:
                    Nexact[b, a] += v
    Q = lay.form(lay.M, float(lam) ** 2, [np.array([float(x) for x in t]) for t in ts], Nexact)
    Q = (Q + Q.T) / 2
    N = lay.N
    low = float(np.linalg.eigvalsh(Q).min())
    if low <= 0:
        raise SystemExit(f"the rounded joint form is not positive definite (min eigenvalue {low})")
    shift = Fraction(low / 2)
    R = np.linalg.cholesky(Q - float(shift) * np.eye(N)).T
    residual = np.linalg.norm(Q - float(shift) * np.eye(N) - R.T @ R)
    if residual > float(shift) / 4:
        raise SystemExit(f"Cholesky residual {residual} too large against shift {float(shift)}")
    head = [[text(x) for x in t] for t in ts[:heads]]
    chains, r = [], heads
    for i in range(1, lay.l):
        chains.append([[text(x) for x in t] for t in ts[r:r + lay.l - i]])
        r += lay.l - i
    return {
        "lipschitz": text(lam),
        "head": head,
        "chains": chains,
        "products": products,
        "witness": {
            "shift": text(shift),
            "factor": [[text(Fraction(float(R[a, b]))) for b in range(a, N)] for a in range(N)],
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
    lay = Layout(*chain(cert))
    joint, lam = joint_for(lay)
    radius = F(cert["domain"]["radius"])
    bound = radius * lam
    epsilon = min(F(cert["bound"]["epsilon"]), round_up(bound))
    print(f"N = {lay.N}, S = {lay.S}, lambda = {float(lam):.6g}; r * lambda = {float(bound):.6g}; "
          f"epsilon {cert['bound']['epsilon']} -> {text(epsilon)}", file=sys.stderr)
    v1_epsilon = cert["bound"]["epsilon"]
    cert["version"] = 2
    cert["bound"]["joint"] = joint
    cert["bound"]["epsilon"] = text(epsilon)
    meta = cert.get("meta") or {}
    meta["tightened_by"] = f"tools/joint.py (cvxpy {cp.__version__}, CLARABEL)"
    meta["epsilon_version_1"] = v1_epsilon
    cert["meta"] = meta
    with open(args.output, "w") as out:
        json.dump(cert, out, indent=1)
        out.write("\n")


if __name__ == "__main__":
    main()
