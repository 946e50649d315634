#!/usr/bin/env python3
"""End-to-end cross-check of `etrack eval score --protocol got10k` against the GOT-10k toolkit.

Builds a synthetic GOT-10k `val` split (random ground truth, absent frames, image resolutions;
frames are empty .jpg files, scoring never decodes them), random results with 1-3 repetitions
and time files in the toolkit's layout, then runs both `got10k.experiments.ExperimentGOT10k.report`
and `etrack eval score`, and compares overall and per-sequence AO, SR0.5 and SR0.75.

Usage:  python3 scripts/eval/crosscheck_got10k.py [PATH/TO/etrack]   (pip install got10k six)
Exit status 0 when every number agrees to 1e-9 (percent).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from got10k.experiments import ExperimentGOT10k


def main():
    etrack = sys.argv[1] if len(sys.argv) > 1 else ".build/release/etrack"
    rng = np.random.RandomState(7)
    work = tempfile.mkdtemp(prefix="got10k-xcheck-")
    val = os.path.join(work, "data", "val")
    names = ["GOT-10k_Val_%06d" % (i + 1) for i in range(6)]
    os.makedirs(val)
    with open(os.path.join(val, "list.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    tracker = "Fake"
    res_root = os.path.join(work, "results", "GOT-10k", tracker)
    for k, name in enumerate(names):
        d = os.path.join(val, name)
        os.makedirs(d)
        n = int(rng.randint(20, 60))
        W, H = [(1280, 720), (640, 480), (1920, 1080)][k % 3]
        for i in range(n):
            open(os.path.join(d, "%08d.jpg" % (i + 1)), "w").close()
        xy = rng.uniform([0, 0], [W * 0.8, H * 0.8], size=(n, 2))
        wh = rng.uniform(10, 300, size=(n, 2))
        gt = np.concatenate([xy, wh], 1)
        np.savetxt(os.path.join(d, "groundtruth.txt"), gt, fmt="%.4f", delimiter=",")
        cover = rng.randint(0, 9, size=n)
        cover[0] = 8
        np.savetxt(os.path.join(d, "cover.label"), cover, fmt="%d")
        np.savetxt(os.path.join(d, "absence.label"), (cover == 0).astype(int), fmt="%d")
        np.savetxt(os.path.join(d, "cut_by_image.label"), np.zeros(n, int), fmt="%d")
        with open(os.path.join(d, "meta_info.ini"), "w") as f:
            f.write("[METAINFO]\nobject_class: thing\nresolution: (%d, %d)\n" % (W, H))
        rd = os.path.join(res_root, name)
        os.makedirs(rd)
        for r in range(1 + k % 3):
            pred = gt + rng.uniform(-60, 60, size=gt.shape)
            pred[:, 2:] = np.abs(pred[:, 2:])
            pred[rng.rand(n) < 0.1] = [W - 5, H - 5, 50, 50]     # partly outside: clipped
            np.savetxt(os.path.join(rd, "%s_%03d.txt" % (name, r + 1)), pred, fmt="%.4f", delimiter=",")
        np.savetxt(os.path.join(rd, "%s_time.txt" % name), rng.uniform(0.005, 0.02, size=n), fmt="%.8f")

    exp = ExperimentGOT10k(os.path.join(work, "data"), subset="val",
                           result_dir=os.path.join(work, "results"), report_dir=os.path.join(work, "reports"))
    perf = exp.report([tracker])[tracker]
    out = os.path.join(work, "etrack.json")
    subprocess.run([etrack, "eval", "score", "--dataset", "got10k", "--root", val, "--protocol", "got10k",
                    "--results", "%s=%s" % (tracker, res_root), "--json", out], check=True, stdout=subprocess.DEVNULL)
    ours = json.load(open(out))["trackers"][0]
    worst = 0.0
    pairs = [(perf["overall"]["ao"] * 100, ours["ao"], "overall AO"),
             (perf["overall"]["sr"] * 100, ours["sr50"], "overall SR0.5"),
             (perf["overall"]["succ_curve"][75] * 100, ours["sr75"], "overall SR0.75")]
    for s in ours["sequences"]:
        ref = perf["seq_wise"][s["name"]]
        pairs += [(ref["ao"] * 100, s["ao"], s["name"] + " AO"), (ref["sr"] * 100, s["sr50"], s["name"] + " SR0.5")]
    for ref, got, what in pairs:
        worst = max(worst, abs(ref - got))
        print("%-32s got10k %10.6f  etrack %10.6f" % (what, ref, got))
    print("max |difference| = %.3g (percent points); work dir %s" % (worst, work))
    sys.exit(0 if worst < 1e-9 else 1)


if __name__ == "__main__":
    main()
