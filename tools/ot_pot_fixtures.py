#!/usr/bin/python3
"""POT reference values for test/ot.test.ts (docs/design/ot.md §8, POT fixtures).

Reads problems exported by tools/ot_export.js (raw float64, never regenerated here) and runs
POT's log-domain Sinkhorn with stopThr = 1e-10/sqrt(m), numItermax = 1e6, plus the exact LP
value ot.emd2. Writes f = reg*log_u, g = reg*log_v (POT's plan is exp(log_u + log_v - M/reg),
so the test rebuilds it from these), the transport cost sinkhorn2 = <M, G>, emd2 and checksums
of the problem. Usage:
  node tools/ot_export.js /tmp/otp R3:400x300
  /usr/bin/python3 tools/ot_pot_fixtures.py /tmp/otp/R3_400_300 > test/fixtures/ot/pot_r3.json
"""
import json
import sys

import numpy as np
import ot


def load(base):
    h = json.load(open(base + '.json'))
    n, m = h['n'], h['m']
    C = np.fromfile(base + '.C.f64', dtype='<f8').reshape(n, m)
    a = np.fromfile(base + '.a.f64', dtype='<f8')
    b = np.fromfile(base + '.b.f64', dtype='<f8')
    return h, C, a, b


def main():
    base = sys.argv[1]
    h, C, a, b = load(base)
    m = C.shape[1]
    cases = []
    emd2 = float(ot.emd2(a, b, C, numItermax=10**7))
    for reg in (1e-2, 1e-3):
        G, log = ot.sinkhorn(a, b, C, reg, method='sinkhorn_log', numItermax=10**6,
                             stopThr=1e-10 / np.sqrt(m), log=True)
        err = float(np.abs(G.sum(1) - a).sum() + np.abs(G.sum(0) - b).sum())
        cases.append({
            'reg': reg,
            'f': (reg * log['log_u']).tolist(),
            'g': (reg * log['log_v']).tolist(),
            'sinkhorn2': float((C * G).sum()),
            'marginalError': err,
            'iterations': int(log['niter']),
        })
    out = {
        'tool': 'tools/ot_pot_fixtures.py', 'pot': ot.__version__, 'numpy': np.__version__,
        'problem': h['name'], 'n': int(C.shape[0]), 'm': int(m),
        'checksum': {'sumC': float(C.sum()), 'C00': float(C[0, 0]), 'sumB2': float((b * b).sum())},
        'emd2': emd2, 'cases': cases,
    }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
