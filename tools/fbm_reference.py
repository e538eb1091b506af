#!/usr/bin/env python3
"""Reference values for the fBM tests, by adaptive quadrature of the *defining integrals* in
mpmath (30 digits), independent of the closed forms in native/fbm (docs/design/fbm.md §9).

  A_ij = ∫_0^T E[Ŷ_i(t) Ŷ_j(t)] dt,  b_k = ∫_0^T E[B(t) Ŷ_k(t)] dt,  c = ∫_0^T Var B(t) dt

with Ŷ = Y (type II, Y(0) = 0) or Y(t) − Y(0) (type I, stationary Y), Γ normalisation:
  type II: E[Y_i Y_j](t) = (1 − e^{−(γi+γj)t})/(γi+γj),   E[B Y_k](t) = γ^{−a} P(a, γt)
  type I : E[Ŷ_i Ŷ_j](t) = (2 − e^{−γi t} − e^{−γj t})/(γi+γj),
           E[B Ŷ_k](t) = γ^{−a}(1 − e^{−γt}) − γ^{−a}(Γ(a,γt)e^{γt}/Γ(a) − 1)
(these follow from the stochastic-integral definitions of docs/design/fbm.md §1–2 by the Itô isometry; the
integrals over t are what the closed forms evaluate analytically). Also V_I, V_II from their
own integrals and the type II covariance ∫_0^s (t−u)^{a−1}(s−u)^{a−1} du / Γ(a)².

Writes test/fixtures/fbm/quadrature.json.  Run: /usr/bin/python3 tools/fbm_reference.py
"""
import json
import os

import mpmath as mp

mp.mp.dps = 30


def grid(K, gmax):
    r = mp.mpf(gmax) ** (mp.mpf(2) / (K - 1))
    n = mp.mpf(K + 1) / 2
    return [r ** (k - n) for k in range(1, K + 1)]


def A_quad(typ, g, T):
    K = len(g)
    A = [[None] * K for _ in range(K)]
    for i in range(K):
        for j in range(i, K):
            s = g[i] + g[j]
            if typ == 'II':
                f = lambda t: (1 - mp.exp(-s * t)) / s
            else:
                f = lambda t: (2 - mp.exp(-g[i] * t) - mp.exp(-g[j] * t)) / s
            A[i][j] = A[j][i] = mp.quad(f, [0, min(T, 1 / s), T] if 1 / s < T else [0, T])
    return A


def b_quad(typ, H, g, T):
    a = mp.mpf(H) + mp.mpf(1) / 2
    out = []
    for gk in g:
        ga = gk ** (-a)
        if typ == 'II':
            f = lambda t: ga * mp.gammainc(a, 0, gk * t, regularized=True)
        else:
            f = lambda t: ga * (2 - mp.exp(-gk * t) - mp.gammainc(a, gk * t, mp.inf, regularized=True) * mp.exp(gk * t))
        pts = [0, T] if 1 / gk >= T else [0, 1 / gk, T]
        out.append(mp.quad(f, pts))
    return out


# Algebraic endpoint singularities (u^{2H-1}, (s-u)^{H-1/2}) are removed by substitution before
# quadrature; tanh-sinh alone leaves ~1e-7 errors at H = 0.1 and 0.9.
def V1(H):
    H = mp.mpf(H)
    h = H - mp.mpf(1) / 2
    a = H + mp.mpf(1) / 2
    # (1+u)^h - u^h = u^h expm1(h log1p(1/u)): no cancellation for large u
    f = lambda u: (u ** h * mp.expm1(h * mp.log1p(1 / u))) ** 2 if u > 1 else ((1 + u) ** h - u ** h) ** 2
    p = 1 / (2 * H) if H < mp.mpf(1) / 2 else mp.mpf(1)  # u = w^p on [0, 1]
    I0 = mp.quad(lambda w: f(w ** p) * p * w ** (p - 1), [0, 1])
    q = 1 / (2 - 2 * H)  # u = 1/x, x = y^q on [1, inf)
    I1 = mp.quad(lambda y: f(1 / y ** q) * y ** (-2 * q) * q * y ** (q - 1), [0, 1])
    # int_0^1 (1-u)^{2H-1} du, v = (1-u)^{2H}: = int_0^1 dv / (2H)
    J = mp.quad(lambda v: 1 / (2 * H), [0, 1])
    return (I0 + I1 + J) / mp.gamma(a) ** 2


def V2(H):
    H = mp.mpf(H)
    a = H + mp.mpf(1) / 2
    p = 1 / (2 * H)  # 1 - u = v^p
    return mp.quad(lambda v: v ** (p * (2 * a - 2)) * p * v ** (p - 1), [0, 1]) / mp.gamma(a) ** 2


def cov2(H, s, t):
    a = mp.mpf(H) + mp.mpf(1) / 2
    s, t = mp.mpf(s), mp.mpf(t)
    # s - u = w^{1/a}: (s-u)^{a-1} du = dw / a
    f = lambda w: (t - s + w ** (1 / a)) ** (a - 1) / a
    return mp.quad(f, [0, s ** a]) / mp.gamma(a) ** 2


def main():
    K, gmax = 5, 20
    g = grid(K, gmax)
    res = {'K': K, 'gammaMax': gmax, 'gammas': [float(x) for x in g], 'cases': [], 'variance': [], 'cov2': []}
    for typ in ('I', 'II'):
        for T in (1, 6):
            A = A_quad(typ, g, mp.mpf(T))
            for H in (0.1, 0.3, 0.5, 0.7, 0.9):
                b = b_quad(typ, H, g, mp.mpf(T))
                c = (V1(H) if typ == 'I' else V2(H)) * mp.mpf(T) ** (2 * mp.mpf(H) + 1) / (2 * mp.mpf(H) + 1)
                res['cases'].append({'type': typ, 'T': T, 'hurst': H,
                                     'A': [float(x) for row in A for x in row],
                                     'b': [float(x) for x in b], 'c': float(c)})
    for H in (0.1, 0.2, 0.3, 0.5, 0.7, 0.9):
        res['variance'].append({'hurst': H, 'V1': float(V1(H)), 'V2': float(V2(H))})
    for H in (0.1, 0.3, 0.7, 0.9):
        for (s, t) in ((0.25, 1.0), (0.5, 1.0), (0.75, 1.0), (0.9, 1.0), (0.3, 0.31), (1.0, 1.0), (2.0, 5.0)):
            res['cov2'].append({'hurst': H, 's': s, 't': t, 'cov': float(cov2(H, s, t))})
    out = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'fbm', 'quadrature.json')
    with open(out, 'w') as f:
        json.dump(res, f, indent=1)
    print(json.dumps({'written': out, 'cases': len(res['cases'])}))


if __name__ == '__main__':
    main()
