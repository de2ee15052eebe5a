# Derives certificates/neurons/invalid/*.json from relu-4-stepwise.json, one change each
# (docs/FORMAT.md section 13.6), and the sample-file cases from relu-4-stepwise-file.json.
# Run from certificates/neurons/: python3 make_invalid.py
import json, copy, hashlib, os, shutil
from fractions import Fraction
src = json.load(open('relu-4-stepwise.json'))
def q(x): return json.dumps(x)
def lst(xs): return '[' + ', '.join(q(x) for x in xs) + ']'
def dump(c):
    out = ['{']
    for k, v in c.items():
        if k == 'random_network':
            out.append('  "random_network": {')
            items = list(v.items())
            for i, (a, b) in enumerate(items):
                out.append(f'    {q(a)}: {q(b)}' + (',' if i + 1 < len(items) else ''))
            out.append('  },')
        elif k == 'kept':
            out.append('  "kept": [')
            for i, (j, w, a) in enumerate(v):
                out.append(f'    [{j}, {lst(w)}, {q(a)}]' + (',' if i + 1 < len(v) else ''))
            out.append('  ],')
        elif k == 'sample' and set(v) not in ({'inputs', 'targets'}, {'file', 'sha256'}):
            out.append(f'  "sample": {json.dumps(v)},')
        elif k == 'sample' and 'file' in v:
            out.append('  "sample": {')
            out.append(f'    "file": {q(v["file"])},')
            out.append(f'    "sha256": {q(v["sha256"])}')
            out.append('  },')
        elif k == 'sample':
            out.append('  "sample": {')
            out.append('    "inputs": [')
            for i, row in enumerate(v['inputs']):
                out.append('      ' + lst(row) + (',' if i + 1 < len(v['inputs']) else ''))
            out.append('    ],')
            out.append('    "targets": ' + lst(v['targets']))
            out.append('  },')
        else:
            out.append(f'  {q(k)}: {json.dumps(v, separators=(",", ":"))},')
    out[-1] = out[-1].rstrip(',')
    out.append('}')
    return '\n'.join(out) + '\n'
assert dump(src) == open('relu-4-stepwise.json').read(), "layout differs"
def make(name, f):
    c = copy.deepcopy(src)
    c['meta'] = {"invalid": name}
    f(c)
    open(f'invalid/{name}.json', 'w').write(dump(c))
make('wrong-format-version', lambda c: c.__setitem__('version', 2))
make('sphere-first-layer', lambda c: c['random_network'].__setitem__('first_layer', 'sphere-gaussian-f64'))
make('row-too-short', lambda c: c['sample']['inputs'][0].pop())
make('targets-count', lambda c: c['sample']['targets'].pop())
make('neuron-beyond-width', lambda c: c['random_network'].__setitem__('width', max(e[0] for e in c['kept'])))
make('neuron-twice', lambda c: c['kept'].insert(1, copy.deepcopy(c['kept'][0])))
def bump(t):
    fr = Fraction(t) + Fraction(2, 2**53); return f"{fr.numerator}/{fr.denominator}"
def w(c): c['kept'][0][1][0] = bump(c['kept'][0][1][0])
make('weight-not-g', w)
def a(c): c['kept'][0][2] = c['kept'][0][2][1:] if c['kept'][0][2].startswith('-') else '-' + c['kept'][0][2]
make('output-weight-not-g', a)
make('zero-scale', lambda c: c.__setitem__('scale', '0'))
make('loss-too-small', lambda c: c.__setitem__('loss', '0.00626'))
def t(c):
    fr = Fraction(c['sample']['targets'][0]) + Fraction(1, 2); c['sample']['targets'][0] = f"{fr.numerator}/{fr.denominator}"
make('target-changed', t)
def m(c): c['sample']['inputs'][0][0] = '0,5'
make('malformed-number', m)
make('unknown-field', lambda c: c.__setitem__('extra', 1))

# A certificate whose sample is a file (section 13.3): the file is named by the SHA-256 of
# its bytes; invalid/samples/ holds a byte-for-byte copy for the examples below.
src = json.load(open('relu-4-stepwise-file.json'))
assert dump(src) == open('relu-4-stepwise-file.json').read(), "layout differs"
name, digest = src['sample']['file'], src['sample']['sha256']
assert hashlib.sha256(open(name, 'rb').read()).hexdigest() == digest
os.makedirs('invalid/samples', exist_ok=True)
shutil.copyfile(name, f'invalid/samples/{name}')
other = digest[:-1] + ('0' if digest[-1] != '0' else '1')
def sample(file, sha256): return lambda c: c.__setitem__('sample', {'file': file, 'sha256': sha256})
make('sample-hash-mismatch', sample(f'samples/{name}', other))
make('sample-file-missing', sample(f'samples/sample-{other}.json', other))
make('sample-path-escapes', sample(f'../{name}', digest))
make('sample-path-absolute', sample(f'/{name}', digest))
def both(c):
    c['sample']['inputs'] = [["0", "0", "0", "0"]]
    c['sample']['targets'] = ["0"]
make('sample-inline-and-file', both)
