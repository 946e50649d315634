#!/usr/bin/env python3
"""Lost-target honesty, measured: on sequences with absent.txt, how often `etrack track` says
`lost` when the target is gone, how often it says so wrongly while on the target, how far the
box runs away during an absence, and whether it finds the target again (docs/hardening.md).

  python3 scripts/hardening/lost_target.py --etrack .build/release/etrack [--json FILE]

Per model and mode:
  absent recall     share of absent frames reported `lost`
  first lost        frames from the start of an absence to the first `lost` (median over spans)
  false alarms      share of frames with the box on the target (IoU >= 0.5) reported `lost`
  runaway           farthest the box centre gets, during an absence, from the last visible
                    ground-truth centre, in ground-truth box diagonals; and the largest area
                    ratio to that box
  re-acquired       absence spans after which the box has IoU >= 0.5 within 10 frames of the
                    target's return
Standard library only.
"""
import argparse, json, math, os, statistics, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
SEQUENCES = ["train/sequences/UAV123_10fps_car14_241-320", "train/sequences/UAV123_10fps_group2_2_151-200"]


def boxes(path):
    out = []
    for line in open(path):
        v = [float(x) for x in line.replace("\t", ",").replace(" ", ",").split(",") if x.strip()]
        out.append(v if len(v) == 4 and all(math.isfinite(x) for x in v) else None)
    return out


def iou(a, b):
    if a is None or b is None:
        return 0.0
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def measure(etrack, model, mode, seq, work):
    out = os.path.join(work, "%s-%s-%s.txt" % (os.path.basename(model), mode, os.path.basename(seq)))
    r = subprocess.run([etrack, "track", "--model", model, "--mode", mode, "--sequence", seq, "--output", out, "--force"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("etrack track failed: " + r.stderr)
    pred = boxes(out)
    states = [l.strip().split(",")[2] for l in open(out[:-4] + "_score.txt")]
    gt = boxes(os.path.join(seq, "groundtruth.txt"))
    absent = [l.strip() == "1" for l in open(os.path.join(seq, "absent.txt"))]
    spans, k = [], 1
    while k < len(absent):
        if absent[k]:
            j = k
            while j < len(absent) and absent[j]:
                j += 1
            spans.append((k, j))
            k = j
        else:
            k += 1
    res = {"absent": 0, "absent_lost": 0, "on": 0, "on_lost": 0, "first_lost": [], "runaway": 0.0, "area": 1.0, "spans": len(spans), "reacquired": 0}
    for i in range(1, len(pred)):
        if absent[i]:
            res["absent"] += 1
            res["absent_lost"] += states[i] == "lost"
        elif iou(pred[i], gt[i]) >= 0.5:
            res["on"] += 1
            res["on_lost"] += states[i] == "lost"
    for a, b in spans:
        ref = next((gt[i] for i in range(a - 1, -1, -1) if gt[i] is not None), None)
        lost_at = next((i - a for i in range(a, b) if states[i] == "lost"), None)
        if lost_at is not None:
            res["first_lost"].append(lost_at)
        if ref:
            cx, cy, diag = ref[0] + ref[2] / 2, ref[1] + ref[3] / 2, math.hypot(ref[2], ref[3])
            for i in range(a, b):
                p = pred[i]
                res["runaway"] = max(res["runaway"], math.hypot(p[0] + p[2] / 2 - cx, p[1] + p[3] / 2 - cy) / diag)
                res["area"] = max(res["area"], p[2] * p[3] / (ref[2] * ref[3]))
        if b < len(absent) and any(iou(pred[i], gt[i]) >= 0.5 for i in range(b, min(b + 10, len(pred)))):
            res["reacquired"] += 1
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--etrack", default=os.path.join(ROOT, ".build/release/etrack"))
    ap.add_argument("--json")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="etrack-lost-")
    rows = []
    print("| model | mode | absent recall | first lost (median frames) | false alarms on target | runaway (diagonals) | area ratio | re-acquired |")
    print("|---|---|---|---|---|---|---|---|")
    for model in ["nanotrack-v2", "nanotrack-v3"]:
        for mode in (["opencv", "corrected"] if model == "nanotrack-v2" else ["corrected"]):
            tot = {}
            for seq in SEQUENCES:
                r = measure(os.path.abspath(args.etrack), os.path.join(SHARED, "models", model), mode, os.path.join(SHARED, "data", seq), work)
                for key, v in r.items():
                    tot[key] = (tot.get(key, [] if isinstance(v, list) else 0) + v) if key not in ("runaway", "area") else max(tot.get(key, 0), v)
            row = {"model": model, "mode": mode,
                   "absent_recall": tot["absent_lost"] / max(tot["absent"], 1),
                   "first_lost_median": statistics.median(tot["first_lost"]) if tot["first_lost"] else None,
                   "false_alarms": tot["on_lost"] / max(tot["on"], 1),
                   "runaway_diagonals": tot["runaway"], "area_ratio": tot["area"],
                   "reacquired": "%d/%d" % (tot["reacquired"], tot["spans"])}
            rows.append(row)
            print("| %s | %s | %.0f%% (%d/%d) | %s | %.1f%% (%d/%d) | %.2f | %.2f | %s |" % (
                model, mode, 100 * row["absent_recall"], tot["absent_lost"], tot["absent"],
                "-" if row["first_lost_median"] is None else "%g" % row["first_lost_median"],
                100 * row["false_alarms"], tot["on_lost"], tot["on"], row["runaway_diagonals"], row["area_ratio"], row["reacquired"]))
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
