#!/usr/bin/env python3
"""SIGKILL `etrack track`, `etrack eval run`, `etrack export` and `etrack train` at random points and check that
nothing is lost or taken for complete when it is not (docs/hardening.md).

For each command, `--kills` trials (20 by default). A trial starts the command the way a user
would (with --resume for track when a run is there to continue), kills it with SIGKILL after a
random delay, one to three times, then lets it finish. After every kill it checks that:
  - no file under its final name is half-written: a final box/result file is either absent or
    equal to the uninterrupted run's, or (track) its manifest says it is not complete;
  - what a killed track run kept (its .partial lines) is a prefix of the uninterrupted run's;
  - files the user owned in the output folder are untouched.
At the end it checks that the finished outputs equal the uninterrupted run's byte for byte (box
and score files; times differ by nature and are only counted). For train: every checkpoint and
model file present after a kill is a whole safetensors file, the log's losses are a prefix of the
uninterrupted run's, and the run resumed with --resume ends with the same weights, checkpoint and
losses, byte for byte.

  python3 scripts/hardening/kill_test.py --etrack .build/release/etrack [--kills 20] [--seed 1]
      [--commands track,eval,export,train] [--json FILE]

Standard library only. Exit status 1 when any check fails.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def read(path):
    with open(path, "rb") as f:
        return f.read()


def digest(path):
    return hashlib.sha256(read(path)).hexdigest()


def complete_lines(path):
    data = read(path).decode()
    return data[: data.rfind("\n") + 1].splitlines() if "\n" in data else []


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def reference(cmd, what):
    """Runs the uninterrupted reference; returns its duration (the range of kill delays)."""
    start = time.time()
    r = run(cmd)
    if r.returncode != 0:
        sys.exit("reference %s failed: %s" % (what, r.stderr))
    return time.time() - start


def kill_after(cmd, delay):
    """Starts cmd, SIGKILLs it after `delay` seconds; True when it was killed (not finished)."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=delay)
        return False, p.returncode
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True, p.returncode


class Tally:
    def __init__(self, name):
        self.name, self.trials, self.kills, self.resumed, self.identical, self.lost, self.problems = name, 0, 0, 0, 0, 0, []

    def fail(self, what):
        self.problems.append(what)

    def row(self):
        return {"command": self.name, "trials": self.trials, "kills": self.kills, "resumed": self.resumed,
                "identical": self.identical, "files_lost": self.lost, "problems": len(self.problems)}


def user_files(folder, rng):
    """Files a user keeps beside the outputs; returns their digests."""
    owned = {}
    for name in ("notes.txt", "other_run.txt"):
        path = os.path.join(folder, name)
        with open(path, "w") as f:
            f.write("user data %d\n" % rng.randrange(1 << 30))
        owned[path] = digest(path)
    return owned


def new_trial(tally, work, name, trial, rng):
    """A fresh folder for one trial, with files the user owns in it; returns (folder, owned)."""
    tally.trials += 1
    folder = os.path.join(work, "%s-%02d" % (name, trial))
    os.makedirs(folder)
    return folder, user_files(folder, rng)


def check_owned(owned, tally, where):
    for path, d in owned.items():
        if not os.path.exists(path) or digest(path) != d:
            tally.lost += 1
            tally.fail("%s: %s was changed or removed" % (where, path))


def track_trials(args, rng, work):
    t = Tally("track")
    seq = os.path.join(SHARED, "data/sequences/OTB_FaceOcc1")
    model = os.path.join(SHARED, "models/nanotrack-v2")
    ref = os.path.join(work, "track-ref", "ref.txt")
    os.makedirs(os.path.dirname(ref))
    base = [args.etrack, "track", "--model", model, "--sequence", seq]
    duration = reference(base + ["--output", ref], "track run")
    ref_boxes, ref_scores = read(ref), read(ref[:-4] + "_score.txt")
    ref_lines = ref_boxes.decode().splitlines()
    for trial in range(args.kills):
        folder, owned = new_trial(t, work, "track", trial, rng)
        out = os.path.join(folder, "run.txt")
        manifest = out[:-4] + "_run.json"
        resumed = False

        def status():
            return json.load(open(manifest))["status"] if os.path.exists(manifest) else None

        def command():
            # As a user would: continue a run that is there, start one otherwise.
            return base + ["--output", out] + (["--resume"] if status() not in (None, "complete") else [])

        for _ in range(rng.randint(1, 3)):
            cmd = command()
            resumed |= "--resume" in cmd
            killed, _ = kill_after(cmd, rng.uniform(0.0, duration * 1.1))
            t.kills += killed
            if os.path.exists(out) and status() == "complete" and read(out) != ref_boxes:
                t.fail("track trial %d: a box file marked complete differs from the uninterrupted run" % trial)
            for f in (out, out + ".partial"):
                if os.path.exists(f):
                    kept = complete_lines(f)
                    if kept != ref_lines[: len(kept)]:
                        t.fail("track trial %d: %s is not a prefix of the uninterrupted run" % (trial, f))
            check_owned(owned, t, "track trial %d" % trial)
            if not killed:
                break
        if status() != "complete":
            cmd = command()
            resumed |= "--resume" in cmd
            r = run(cmd)
            if r.returncode != 0:
                t.fail("track trial %d: the final run failed: %s" % (trial, r.stderr.strip()[-300:]))
        t.resumed += resumed
        ok = os.path.exists(out) and read(out) == ref_boxes and read(out[:-4] + "_score.txt") == ref_scores \
            and len(complete_lines(out[:-4] + "_time.txt")) == len(ref_lines)
        left = [n for n in os.listdir(folder) if n.endswith(".partial") or "_resume" in n]
        if ok and not left:
            t.identical += 1
        else:
            t.lost += 1
            t.fail("track trial %d: final files differ from the uninterrupted run or working files are left (%s)" % (trial, left))
        check_owned(owned, t, "track trial %d" % trial)
    return t


def eval_trials(args, rng, work):
    t = Tally("eval run")
    data = os.path.join(SHARED, "data/sequences")
    model = os.path.join(SHARED, "models/nanotrack-v2")
    seqs = "OTB_Crossing,OTB_Human3_first199,OTB_MotorRolling,UAV123_10fps_person12_1,UAV123_10fps_wakeboard10,VOT_bag"
    base = [args.etrack, "eval", "run", "--tracker", model, "--dataset", "folder", "--root", data,
            "--sequences", seqs, "--jobs", "2", "--quiet"]
    ref = os.path.join(work, "eval-ref")
    duration = reference(base + ["--results", ref], "eval run")
    ref_files = {n: read(os.path.join(ref, n)) for n in os.listdir(ref) if not n.endswith("_time.txt")}
    for trial in range(args.kills):
        folder, owned = new_trial(t, work, "eval", trial, rng)
        cmd = base + ["--results", folder]
        resumed = False
        for attempt in range(rng.randint(1, 3)):
            killed, _ = kill_after(cmd, rng.uniform(0.0, duration * 1.1))
            t.kills += killed
            resumed |= killed
            for n, data_ref in ref_files.items():
                p = os.path.join(folder, n)
                if os.path.exists(p) and read(p) != data_ref:
                    t.fail("eval trial %d: %s exists under its final name but differs (half-written?)" % (trial, n))
                if os.path.exists(p) and not os.path.exists(p[:-4] + "_time.txt"):
                    t.fail("eval trial %d: %s has no time file" % (trial, n))
            check_owned(owned, t, "eval trial %d" % trial)
            if not killed:
                break
        r = run(cmd)
        t.resumed += resumed
        got = {n: read(os.path.join(folder, n)) for n in ref_files if os.path.exists(os.path.join(folder, n))}
        times = [n for n in os.listdir(folder) if n.endswith("_time.txt")]
        stray = [n for n in os.listdir(folder) if n.startswith(".")]
        if stray:
            t.fail("eval trial %d: temporary files left after the finished run: %s" % (trial, stray))
        if r.returncode == 0 and got == ref_files and len(times) == len(ref_files):
            t.identical += 1
        else:
            t.lost += 1
            t.fail("eval trial %d: resumed results differ from the uninterrupted run" % trial)
        check_owned(owned, t, "eval trial %d" % trial)
    return t


def export_trials(args, rng, work):
    t = Tally("export")
    ref = os.path.join(work, "export-ref.onnx")
    base = [args.etrack, "export", "et-256-fgaf3", "--seed", "3"]
    duration = reference(base + ["--output", ref], "export")
    ref_digest = digest(ref)
    for trial in range(args.kills):
        folder, owned = new_trial(t, work, "export", trial, rng)
        out = os.path.join(folder, "model.onnx")
        # Half the trials overwrite an older export the user had (--force): it must survive a kill intact.
        old = None
        if trial % 2:
            with open(out, "wb") as f:
                f.write(b"an older export the user owns")
            old = digest(out)
        killed, _ = kill_after(base + ["--output", out, "--force"], rng.uniform(0.0, duration * 1.1))
        t.kills += killed
        if os.path.exists(out) and digest(out) not in (ref_digest, old):
            t.fail("export trial %d: %s is half-written" % (trial, out))
        if killed and old and os.path.exists(out) and digest(out) != old and digest(out) != ref_digest:
            t.lost += 1
        check_owned(owned, t, "export trial %d" % trial)
        r = run(base + ["--output", out, "--force"])
        t.resumed += killed
        if r.returncode == 0 and digest(out) == ref_digest:
            t.identical += 1
        else:
            t.fail("export trial %d: the export run after the kill differs" % trial)
        leftovers = [n for n in os.listdir(folder) if n not in ("model.onnx", "notes.txt", "other_run.txt")]
        if leftovers:
            t.fail("export trial %d: stray files %s" % (trial, leftovers))
    return t


def whole_safetensors(path):
    """A safetensors file that is complete: header length, JSON header, data to the last offset."""
    data = read(path)
    if len(data) < 8:
        return False
    n = int.from_bytes(data[:8], "little")
    try:
        header = json.loads(data[8:8 + n])
    except ValueError:
        return False
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    return len(data) == 8 + n + end


def log_losses(path):
    """(step, loss) of every complete line of a training log."""
    out = []
    for line in complete_lines(path):
        d = json.loads(line)
        out.append((d["step"], d["loss"]))
    return out


def train_trials(args, rng, work):
    t = Tally("train")
    seq = os.path.join(SHARED, "data/sequences/DAVIS_car-shadow")
    base = [args.etrack, "train", "--model", "et-128-fgaf3-bn@channels=64,depth=1,headChannels=32,templateSize=64,searchSize=128",
            "--data", "folder:" + seq, "--steps", "40", "--batch-size", "4", "--checkpoint-every", "3"]
    ref = os.path.join(work, "train-ref")
    duration = reference(base + ["--out", ref], "train run")
    ref_model, ref_checkpoint = read(os.path.join(ref, "model.safetensors")), read(os.path.join(ref, "checkpoint.safetensors"))
    ref_losses = log_losses(os.path.join(ref, "log.jsonl"))
    for trial in range(args.kills):
        folder, owned = new_trial(t, work, "train", trial, rng)
        out = os.path.join(folder, "run")
        checkpoint = os.path.join(out, "checkpoint.safetensors")

        def command():
            return base + ["--out", out] + (["--resume"] if os.path.exists(checkpoint) else [])

        resumed = False
        for _ in range(rng.randint(1, 3)):
            cmd = command()
            resumed |= "--resume" in cmd
            killed, _ = kill_after(cmd, rng.uniform(0.0, duration * 1.1))
            t.kills += killed
            for name in ("checkpoint.safetensors", "model.safetensors"):
                p = os.path.join(out, name)
                if os.path.exists(p) and not whole_safetensors(p):
                    t.fail("train trial %d: %s is not a whole safetensors file after the kill" % (trial, name))
            log = os.path.join(out, "log.jsonl")
            if os.path.exists(log):
                got = log_losses(log)
                if got != ref_losses[: len(got)]:
                    t.fail("train trial %d: the log's losses are not a prefix of the uninterrupted run's" % trial)
            check_owned(owned, t, "train trial %d" % trial)
            if not killed:
                break
        cmd = command()
        resumed |= "--resume" in cmd
        r = run(cmd)
        t.resumed += resumed
        if r.returncode != 0:
            t.fail("train trial %d: the final run failed: %s" % (trial, r.stderr.strip()[-300:]))
        ok = r.returncode == 0 and read(os.path.join(out, "model.safetensors")) == ref_model \
            and read(checkpoint) == ref_checkpoint and log_losses(os.path.join(out, "log.jsonl")) == ref_losses
        stray = [n for n in os.listdir(out) if n.startswith(".") or n.endswith((".partial", ".tmp"))]
        if ok and not stray:
            t.identical += 1
        else:
            t.lost += 1
            t.fail("train trial %d: resumed weights, checkpoint or losses differ from the uninterrupted run, or stray files (%s)" % (trial, stray))
        check_owned(owned, t, "train trial %d" % trial)
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--etrack", default=os.path.join(ROOT, ".build/release/etrack"))
    ap.add_argument("--kills", type=int, default=20, help="trials per command")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--commands", default="track,eval,export,train")
    ap.add_argument("--json", help="write the table as JSON here")
    args = ap.parse_args()
    args.etrack = os.path.abspath(args.etrack)
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="etrack-kill-")
    tallies = []
    try:
        for c in args.commands.split(","):
            t0 = time.time()
            tallies.append({"track": track_trials, "eval": eval_trials, "export": export_trials, "train": train_trials}[c](args, rng, work))
            print("%s: %d trials in %.0f s" % (tallies[-1].name, tallies[-1].trials, time.time() - t0), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("| command | trials | SIGKILLs | resumed | identical to an uninterrupted run | files lost | problems |")
    print("|---|---|---|---|---|---|---|")
    for t in tallies:
        r = t.row()
        print("| %s | %d | %d | %d | %d | %d | %d |" % (r["command"], r["trials"], r["kills"], r["resumed"], r["identical"], r["files_lost"], r["problems"]))
    problems = [p for t in tallies for p in t.problems]
    for p in problems[:20]:
        print("  " + p)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([t.row() for t in tallies], f, indent=1)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
