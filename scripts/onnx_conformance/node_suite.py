#!/usr/bin/env python3
"""The ONNX project's own backend node tests, run through `etrack onnx run`.

Written for onnx 1.23.2 and numpy 2.4.6 (scripts/requirements-reference.txt); any other onnx
version is refused, because the suite, its expected outputs and the opset range change with it.

1. Generates the node tests from the pinned onnx package's test cases
   (`onnx.backend.test.case.node.collect_testcases()`), written the way onnx's `generate-data`
   tool writes `data/node`: model.onnx and test_data_set_N/{input,output}_K.pb. Cached under
   ${ETRACK_CACHE:-~/.cache/etrack}/onnx-node-tests/onnx-<version>/.
2. Sorts every test into one of:
   - runnable: all its ops are in `etrack onnx operators --json` and every tensor it declares has
     an element type the engine holds (float32, int8-int64, uint8-uint32, bool). It is run, and
     each output is compared with the expected one exactly as onnx's backend runner does
     (`assert_similar_outputs`: same shape, same dtype, np.testing.assert_allclose with the
     case's rtol 1e-3 / atol 1e-7). Outcomes: passed, failed (a clean error, with its message),
     wrong (numbers differ), crashed (a signal or an unexpected exit status).
   - not applicable: it uses an element type we do not hold (listed by type) or a sequence /
     optional / map value. It is run too, and must be refused with a clear error.
   - unsupported op: it uses an op we do not claim. It is run too, and must be refused with exit
     status 1 and a message that names the op (anything else is counted as a crash or a silent run).
3. Writes a per-op table (docs/onnx/conformance.md with --report) and, with --baseline, fails when
   a test that passed in the baseline no longer passes, or when anything is wrong or crashed.

    python3 scripts/onnx_conformance/node_suite.py --etrack .build/release/etrack \
        --baseline scripts/onnx_conformance/baseline.json --report docs/onnx/conformance.md
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import numpy_helper

WRITTEN_FOR_ONNX = "1.23.2"
WORST = []  # (relative difference, test, output) of every float output compared
HELD_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.INT8, onnx.TensorProto.INT16, onnx.TensorProto.INT32,
              onnx.TensorProto.INT64, onnx.TensorProto.UINT8, onnx.TensorProto.UINT16, onnx.TensorProto.UINT32,
              onnx.TensorProto.BOOL}


def type_name(t):
    return onnx.TensorProto.DataType.Name(t).lower()


def generate(root):
    """Writes every node test case under root/node (once per onnx version)."""
    stamp = os.path.join(root, "complete")
    if os.path.exists(stamp):
        return
    import warnings
    import onnx.backend.test.case.node as node_cases
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = node_cases.collect_testcases()
    tmp = root + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    for case in cases:
        d = os.path.join(tmp, "node", case.name)
        os.makedirs(d)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for i, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(d, f"test_data_set_{i}")
            os.makedirs(ds)
            for kind, values, decls in (("input", inputs, case.model.graph.input), ("output", outputs, case.model.graph.output)):
                for j, v in enumerate(values):
                    decl = decls[j]
                    if not decl.type.HasField("tensor_type"):
                        proto = (numpy_helper.from_list(v, decl.name) if decl.type.HasField("sequence_type")
                                 else numpy_helper.from_optional(v, decl.name) if decl.type.HasField("optional_type")
                                 else numpy_helper.from_dict(v, decl.name))
                    elif isinstance(v, onnx.TensorProto):
                        proto = v
                    else:
                        proto = numpy_helper.from_array(v, decl.name)
                    with open(os.path.join(ds, f"{kind}_{j}.pb"), "wb") as f:
                        f.write(proto.SerializeToString())
        with open(os.path.join(d, "tolerance.json"), "w") as f:
            json.dump({"rtol": case.rtol, "atol": case.atol}, f)
    shutil.rmtree(root, ignore_errors=True)
    os.rename(tmp, root)
    open(stamp, "w").close()


def all_nodes(graph):
    for n in graph.node:
        yield n
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield from all_nodes(a.g)
            for g in a.graphs:
                yield from all_nodes(g)


def declared_types(model):
    """Element types of every tensor the model declares, and whether it has non-tensor values."""
    types, non_tensor = set(), False
    g = model.graph
    for v in list(g.input) + list(g.output) + list(g.value_info):
        if v.type.HasField("tensor_type"):
            t = v.type.tensor_type.elem_type
            # A float64 graph output of float32 work (Cast to double) is written widened, exactly.
            if not (v in g.output and t == onnx.TensorProto.DOUBLE):
                types.add(t)
        else:
            non_tensor = True
    for t in g.initializer:
        types.add(t.data_type)
    for n in all_nodes(g):
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                types.add(a.t.data_type)
            if n.op_type == "Constant" and a.name in ("value_string", "value_strings", "sparse_value"):
                non_tensor = True
    return types, non_tensor


def classify(name, model, supported):
    ops = [(n.domain, n.op_type) for n in all_nodes(model.graph)]
    foreign = [op for d, op in ops if d not in ("", "ai.onnx") or op not in supported]
    if foreign:
        return "unsupported", foreign[0]
    types, non_tensor = declared_types(model)
    if non_tensor:
        return "n/a", "sequence, optional, map or string values"
    missing = sorted(type_name(t) for t in types - HELD_TYPES)
    if missing:
        return "n/a", "element type " + ", ".join(missing)
    # The engine computes in float32: integer tensors exist only as plan-time values. An integer
    # output that depends on a float graph input would be a run-time integer tensor.
    runtime = {v.name for v in model.graph.input if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT}
    for n in model.graph.node:
        if n.op_type != "Shape" and any(i in runtime for i in n.input):
            runtime.update(n.output)
    for o in model.graph.output:
        if o.name in runtime and o.type.tensor_type.elem_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE):
            return "n/a", "integer or bool tensor computed at run time from float32 inputs"
    return "runnable", None


def owner_op(name, model, owners):
    """The op a test is about: its single node's op, or the op of its unexpanded twin."""
    m = re.match(r"(.*?)_expanded(_ver\d+)?$", name)
    if m and m.group(1) in owners:
        return owners[m.group(1)]
    ops = [n.op_type for n in model.graph.node]
    return ops[-1] if ops else "?"


def run_engine(etrack, test_dir, model, out_dir, data_set):
    args = [etrack, "onnx", "run", "--model", os.path.join(test_dir, "model.onnx"), "--output-dir", out_dir]
    for j, inp in enumerate(model.graph.input):
        path = os.path.join(data_set, f"input_{j}.pb")
        if os.path.exists(path):
            args += ["--input", f"{inp.name}={path}"]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def compare(model, out_dir, data_set, rtol, atol):
    """onnx's assert_similar_outputs, per output; returns None or what differs. Records the
    worst relative difference of float outputs in WORST (for the report)."""
    shapes = json.load(open(os.path.join(out_dir, "shapes.json")))
    for j, o in enumerate(model.graph.output):
        ref = numpy_helper.to_array(onnx.load_tensor(os.path.join(data_set, f"output_{j}.pb")))
        got = np.load(os.path.join(out_dir, shapes[o.name]["file"]))
        if got.shape != ref.shape:
            return f"output '{o.name}': shape {list(got.shape)}, expected {list(ref.shape)}"
        if got.dtype != ref.dtype:
            return f"output '{o.name}': dtype {got.dtype}, expected {ref.dtype}"
        if got.dtype.kind == "f" and got.size:
            g, r = got.astype(np.float64), ref.astype(np.float64)
            finite = np.isfinite(r)
            if finite.any():
                rel = float(np.max(np.abs(g[finite] - r[finite]) / np.maximum(np.abs(r[finite]), 1e-6)))
                WORST.append((rel, os.path.basename(os.path.dirname(data_set)), o.name))
        try:
            np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol)
        except AssertionError:
            diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
            return f"output '{o.name}': max abs difference {np.nanmax(diff):.3g}"
    return None


def last_line(text):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return lines[-1].removeprefix("Error: ") if lines else ""


def run_test(etrack, root, name, model, category, detail):
    test_dir = os.path.join(root, "node", name)
    tol = json.load(open(os.path.join(test_dir, "tolerance.json")))
    data_sets = sorted(d for d in os.listdir(test_dir) if d.startswith("test_data_set_"))
    with tempfile.TemporaryDirectory() as out:
        for ds in data_sets:
            r = run_engine(etrack, test_dir, model, out, os.path.join(test_dir, ds))
            if category == "unsupported":
                if r.returncode == 1 and detail in r.stderr:
                    return "rejected", last_line(r.stderr)
                if r.returncode == 0:
                    return "ran", "ran although it uses " + detail
                return "crashed", f"exit status {r.returncode}: {last_line(r.stderr)}"
            if category == "n/a":
                # Out of scope, but it must still be refused cleanly (1: engine error, 64: bad input file).
                if r.returncode in (1, 64):
                    return "n/a", detail
                if r.returncode == 0:
                    return "ran", f"ran although it uses {detail}: {r.stdout.strip()[:200]}"
                return "crashed", f"exit status {r.returncode}: {last_line(r.stderr)}"
            if r.returncode == 1:
                return "failed", last_line(r.stderr)
            if r.returncode != 0:
                return "crashed", f"exit status {r.returncode}: {last_line(r.stderr)}"
            why = compare(model, out, os.path.join(test_dir, ds), tol["rtol"], tol["atol"])
            if why:
                return "wrong", why
    return "passed", ""


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--etrack", default=".build/release/etrack")
    p.add_argument("--work", default=None, help="where the generated tests are cached")
    p.add_argument("--baseline", help="JSON of the tests that must pass; fail on any that no longer does")
    p.add_argument("--update-baseline", action="store_true", help="write the tests passing now to --baseline")
    p.add_argument("--report", help="write the Markdown table here (docs/onnx/conformance.md)")
    p.add_argument("--json", help="write every test's outcome here")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--only", help="regular expression over test names")
    p.add_argument("--quiet", action="store_true", help="print only the totals and the failing tests")
    a = p.parse_args()

    if onnx.__version__ != WRITTEN_FOR_ONNX:
        sys.exit(f"node_suite.py was written for onnx {WRITTEN_FOR_ONNX}; this Python has onnx {onnx.__version__} "
                 f"(run it in the pinned environment: bash scripts/setup.sh)")
    cache = a.work or os.path.join(os.environ.get("ETRACK_CACHE", os.path.expanduser("~/.cache/etrack")),
                                   "onnx-node-tests", f"onnx-{onnx.__version__}")
    t0 = time.time()
    generate(cache)
    catalog = json.loads(subprocess.run([a.etrack, "onnx", "operators", "--json"], check=True, capture_output=True, text=True).stdout)
    supported = {o["name"] for o in catalog["operators"]} | {"Constant"}

    names = sorted(os.listdir(os.path.join(cache, "node")))
    if a.only:
        names = [n for n in names if re.search(a.only, n)]
    models = {n: onnx.load(os.path.join(cache, "node", n, "model.onnx")) for n in names}
    owners = {n: m.graph.node[-1].op_type for n, m in models.items() if "_expanded" not in n and m.graph.node}
    plan = {}
    for n in names:
        category, detail = classify(n, models[n], supported)
        plan[n] = (owner_op(n, models[n], owners), category, detail)

    results = {}
    todo = names
    done = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futures = {pool.submit(run_test, a.etrack, cache, n, models[n], plan[n][1], plan[n][2]): n for n in todo}
        for f in concurrent.futures.as_completed(futures):
            n = futures[f]
            try:
                results[n] = f.result()
            except subprocess.TimeoutExpired:
                results[n] = ("crashed", "timed out (hang)")
            done += 1
            tty = sys.stderr.isatty()
            if (done % 100 == 0 if tty else done % 500 == 0) or done == len(todo):
                rate = done / max(time.time() - t0, 1e-9)
                print(f"{chr(13) if tty else ''}  {done}/{len(todo)} tests run, {rate:.0f}/s, ETA {(len(todo) - done) / max(rate, 1e-9):.0f} s",
                      end="" if tty else "\n", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)

    # Per op we claim: runnable tests and their outcomes.
    per_op = collections.defaultdict(collections.Counter)
    failures = collections.defaultdict(list)
    na = collections.Counter()
    bad_na = []
    for n in names:
        op, category, _ = plan[n]
        outcome, why = results[n]
        if category == "n/a":
            if outcome != "n/a":
                bad_na.append((n, outcome, why))
                continue
            na[why] += 1
            if op in supported:
                per_op[op]["n/a"] += 1
            continue
        if category == "unsupported":
            continue
        per_op[op]["tests"] += 1
        per_op[op][outcome] += 1
        if outcome != "passed":
            failures[op].append((n, outcome, why))
    totals = collections.Counter(o for o, _ in results.values())
    unsupported = [n for n in names if plan[n][1] == "unsupported"]
    bad_rejections = [(n, *results[n]) for n in unsupported if results[n][0] != "rejected"]

    lines = [
        "# ONNX node tests",
        "",
        f"The ONNX project's backend node tests of onnx {onnx.__version__} ({len(names)} tests), generated from the package's test",
        "cases and run through `etrack onnx run`, compared as onnx's own backend runner compares (shape, dtype,",
        "`assert_allclose` with rtol 1e-3, atol 1e-7). Regenerate this page with",
        "`python3 scripts/onnx_conformance/node_suite.py --report docs/onnx/conformance.md` in the pinned",
        "environment; `scripts/test.sh` runs it and fails if a test of `scripts/onnx_conformance/baseline.json` stops passing.",
        "",
        f"- Runnable (only ops we claim, types we hold): {sum(c['tests'] for c in per_op.values())}; passed "
        f"{totals['passed']}, failed with a clean error {totals['failed']}, wrong numbers {totals['wrong']}, crashed {totals['crashed']}.",
        f"- Not applicable (types or values the engine does not hold): {sum(na.values())}.",
        (f"- Worst relative difference of a passing float output (|ours − expected| / max(|expected|, 1e-6)): "
         f"{worst[0]:.1e} (`{worst[1]}`, output '{worst[2]}'); median over outputs {np.median([w[0] for w in WORST]):.1e}."
         if (worst := max((w for w in WORST if results.get(w[1], ('',))[0] == 'passed'), default=None)) else "- No float outputs compared."),
        f"- Using ops we do not claim: {len(unsupported)}; refused with exit status 1 and the op named: "
        f"{sum(1 for n in unsupported if results[n][0] == 'rejected')}.",
        "",
        "| op | runnable tests | passed | failed | pass rate | not applicable |",
        "|---|---|---|---|---|---|",
    ]
    for op in sorted(per_op):
        c = per_op[op]
        rate = f"{100 * c['passed'] / c['tests']:.0f}%" if c["tests"] else "–"
        label = op if op in supported else f"{op} (not claimed: its tests expanded into ops we run)"
        lines.append(f"| {label} | {c['tests']} | {c['passed']} | {c['tests'] - c['passed']} | {rate} | {c['n/a']} |")
    lines += ["", "## Runnable tests that do not pass", ""]
    if not failures:
        lines.append("None.")
    for op in sorted(failures):
        for n, outcome, why in sorted(failures[op]):
            lines.append(f"- {op}: `{n}` ({outcome}): {why}")
    lines += ["", "## Not applicable, by reason", ""]
    for why, k in na.most_common():
        lines.append(f"- {why}: {k} tests")
    lines += ["", "Every not-applicable test is still run, and must be refused with a clear error (exit status 1 or 64).", ""]
    lines += [f"- `{n}` ({o}): {why}" for n, o, why in bad_na] or ["All are."]
    lines += ["", "## Tests with unclaimed ops not refused cleanly", ""]
    lines += [f"- `{n}` ({o}): {why}" for n, o, why in bad_rejections] or ["None."]
    report = "\n".join(lines) + "\n"
    if a.quiet:
        print("\n".join(l for l in lines if l.startswith(("- Runnable", "- Not applicable", "- Using ops", "- Worst"))))
        failing = [l for l in lines if re.match(r"- \w+: `test_", l)]
        print("\n".join(failing) if failing else "every runnable test passes")
    else:
        print(report)
    if a.report:
        with open(a.report + ".partial", "w") as f:
            f.write(report)
        os.replace(a.report + ".partial", a.report)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({n: {"op": plan[n][0], "category": plan[n][1], "outcome": results[n][0], "detail": results[n][1]} for n in names},
                      f, indent=1, sort_keys=True)

    passed = sorted(n for n in names if results[n][0] == "passed")
    status = 0
    if totals["wrong"] or totals["crashed"] or bad_rejections or bad_na:
        print(f"FAIL: {totals['wrong']} wrong, {totals['crashed']} crashed, {len(bad_rejections)} unclaimed ops and "
              f"{len(bad_na)} out-of-scope tests not refused cleanly", file=sys.stderr)
        status = 1
    if a.baseline and a.update_baseline:
        with open(a.baseline, "w") as f:
            json.dump({"onnx": onnx.__version__, "passed": passed}, f, indent=1)
            f.write("\n")
    elif a.baseline:
        base = json.load(open(a.baseline))
        lost = sorted(set(base["passed"]) - set(passed)) if not a.only else sorted(set(base["passed"]) & set(names) - set(passed))
        if lost:
            print(f"FAIL: {len(lost)} tests of the baseline no longer pass: " + ", ".join(lost[:20]), file=sys.stderr)
            status = 1
        gained = len(set(passed) - set(base["passed"]))
        print(f"baseline: {len(base['passed'])} must pass; {len(passed)} pass now ({gained} more)", file=sys.stderr)
    print(f"node suite: {time.time() - t0:.0f} s", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
