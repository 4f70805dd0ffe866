// The Python half of `segtune setup tensorflow`: reads TensorFlow's wheel with the standard
// library's zipfile (python3 is a prerequisite anyway, for pip), so that no unzip tool or npm zip
// package is needed. It extracts only what the tfjs-node binding needs: the two shared libraries,
// and the headers that the binding's sources include, followed through their own #includes
// (about 100 files of the wheel's 13,000), and, for the CUDA build, the nvidia-* wheels whole.
// Kept as a string so that the bundled CLI carries it without a file beside it.
export const WHEEL_EXTRACT_PY = String.raw`
import json, re, sys, zipfile, os
cmd, wheel, dest = sys.argv[1], sys.argv[2], sys.argv[3]
z = zipfile.ZipFile(wheel)
names = set(z.namelist())

def put(name, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with z.open(name) as src, open(target, 'wb') as out:
        while True:
            chunk = src.read(1 << 22)
            if not chunk:
                break
            out.write(chunk)

if cmd == 'metadata':
    meta = [n for n in names if n.endswith('.dist-info/METADATA')][0]
    text = z.read(meta).decode('utf8')
    reqs = [l[len('Requires-Dist: '):] for l in text.splitlines() if l.startswith('Requires-Dist: ')]
    print(json.dumps({'requires': reqs}))
elif cmd == 'tensorflow':
    seeds = json.loads(sys.argv[4])
    libs = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2']
    for lib in libs:
        if lib not in names:
            sys.exit('the wheel has no ' + lib)
        put(lib, os.path.join(dest, lib))
        os.chmod(os.path.join(dest, lib), 0o755)
    inc = 'tensorflow/include/'
    seen, todo, missing = set(), list(seeds), []
    pattern = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
    while todo:
        h = todo.pop()
        if h in seen:
            continue
        seen.add(h)
        if inc + h not in names:
            missing.append(h)
            continue
        put(inc + h, os.path.join(dest, inc + h))
        for m in pattern.finditer(z.read(inc + h).decode('utf8', 'replace')):
            todo.append(m.group(1))
    if any(s in missing for s in seeds):
        sys.exit('the wheel lacks the C API headers: ' + ', '.join(s for s in seeds if s in missing))
    print(json.dumps({'headers': len(seen) - len(missing), 'libraries': libs}))
elif cmd == 'all':
    count = 0
    for n in names:
        if n.endswith('/') or '.dist-info/' in n:
            continue
        put(n, os.path.join(dest, n))
        if '/lib/' in n or n.endswith('.so') or '.so.' in n:
            os.chmod(os.path.join(dest, n), 0o755)
        count += 1
    print(json.dumps({'files': count}))
`;
