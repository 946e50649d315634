import Foundation
import XCTest

/// `etrack track` never loses a frame it tracked and names every bad input (docs/hardening.md):
/// SIGKILL and SIGINT keep the frames, --resume gives the uninterrupted run's results byte for
/// byte, and NaN networks, frames of another size, missing frames, truncated videos and negative
/// --init values are each handled and said.
final class TrackHardeningTests: XCTestCase {
    let model = TrackCommandTests.model
    let video = TrackCommandTests.shared + "/data/videos/pysot_demo_bag.avi"

    func lines(_ path: String) throws -> [Substring] {
        try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline)
    }

    func manifest(_ out: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: out.replacingOccurrences(of: ".txt", with: "_run.json")))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    /// Starts `etrack track`, waits until `out.txt.partial` holds `frames` lines, then sends `signal`.
    func runAndSignal(_ args: [String], out: String, afterFrames frames: Int, signal: Int32) throws -> (status: Int32, stderr: String) {
        try runAndSignal(args, signal: signal) { ((try? self.lines(out + ".partial").count) ?? 0) >= frames }
    }

    /// SIGKILL mid-run leaves the working files with every finished frame and no final files; --resume
    /// then gives the uninterrupted run's boxes and scores byte for byte, in both modes.
    func testKilledRunResumesToTheUninterruptedResult() throws {
        let seq = TrackCommandTests.shared + "/data/sequences/OTB_FaceOcc1"
        for mode in ["opencv", "corrected"] {
            let dir = try temporaryDirectory()
            let ref = dir + "/ref.txt", out = dir + "/run.txt"
            XCTAssertEqual(try etrack(["track", "--model", model, "--mode", mode, "--sequence", seq, "--output", ref]).status, 0)
            let args = ["track", "--model", model, "--mode", mode, "--sequence", seq, "--output", out]
            let killed = try runAndSignal(args, out: out, afterFrames: 150, signal: SIGKILL)
            XCTAssertEqual(killed.status, SIGKILL, "killed by the signal")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "no final file before the run publishes")
            XCTAssertEqual(try manifest(out)["status"] as? String, "running")
            let kept = try lines(out + ".partial")
            XCTAssertGreaterThanOrEqual(kept.count, 150)
            XCTAssertEqual(Array(kept), Array(try lines(ref).prefix(kept.count)), "what a killed run kept is the run's own prefix")
            let resumed = try etrack(args + ["--resume"])
            XCTAssertEqual(resumed.status, 0, resumed.output)
            XCTAssertTrue(resumed.output.contains("resuming"), resumed.output)
            XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), try String(contentsOfFile: ref, encoding: .utf8), "\(mode): boxes")
            XCTAssertEqual(try String(contentsOfFile: dir + "/run_score.txt", encoding: .utf8), try String(contentsOfFile: dir + "/ref_score.txt", encoding: .utf8), "\(mode): scores")
            XCTAssertEqual(try lines(dir + "/run_time.txt").count, 892)
            let m = try manifest(out)
            XCTAssertEqual(m["status"] as? String, "complete")
            XCTAssertEqual(m["frames"] as? Int, 892)
            XCTAssertEqual((m["resumedAt"] as? [Int])?.first, kept.count + 1)
            let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".partial") || $0.contains("resume") }
            XCTAssertEqual(left, [], "no working or resume files are left once complete")
        }
    }

    /// SIGINT publishes a consistent partial set (marked in _run.json and by the score file's last
    /// line); --resume completes it, one-stream model and rendered video included.
    func testInterruptedRunIsMarkedPartialAndResumes() throws {
        let dir = try temporaryDirectory()
        let ref = dir + "/ref.txt", out = dir + "/run.txt", render = dir + "/run.mp4"
        let base = ["track", "--model", "et-128-fgaf3-bn", "--video", video, "--init", "292,128,146,132"]
        XCTAssertEqual(try etrack(base + ["--output", ref]).status, 0)
        let args = base + ["--output", out, "--render", render]
        let r = try runAndSignal(args, out: out, afterFrames: 40, signal: SIGINT)
        XCTAssertEqual(r.status, 130, r.stderr)
        let m = try manifest(out)
        XCTAssertEqual(m["status"] as? String, "partial")
        let stop = m["stop"] as? [String: Any]
        let boxes = try lines(out), scores = try lines(dir + "/run_score.txt")
        XCTAssertEqual(stop?["frame"] as? Int, boxes.count + 1)
        XCTAssertEqual(stop?["state"] as? String, "interrupted")
        XCTAssertEqual(m["frames"] as? Int, boxes.count)
        XCTAssertEqual(scores.count, boxes.count + 1)
        XCTAssertEqual(scores.last, "nan,0.000000,interrupted")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run_resume.txt"), "a partial set keeps its resume states")
        XCTAssertTrue(r.stderr.contains("continue with --resume"), r.stderr)
        let resumed = try etrack(args + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.output)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), try String(contentsOfFile: ref, encoding: .utf8))
        XCTAssertEqual(try String(contentsOfFile: dir + "/run_score.txt", encoding: .utf8), try String(contentsOfFile: dir + "/ref_score.txt", encoding: .utf8))
        XCTAssertEqual(try videoFrames(render), 196, "the video is rendered whole after the resume")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run.partial.mp4"))
    }

    func videoFrames(_ path: String) throws -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// --resume refuses what it cannot continue, naming why.
    func testResumeRefusesAnotherRunOrAFinishedOne() throws {
        let seq = try makeSequence(frames: 6, gtLines: 6)
        let out = try temporaryDirectory() + "/r.txt"
        let none = try etrack(["track", "--model", model, "--sequence", seq, "--output", out, "--resume"])
        XCTAssertEqual(none.status, 1)
        XCTAssertTrue(none.output.contains("there is no run of etrack track to resume"), none.output)
        XCTAssertEqual(try etrack(["track", "--model", model, "--sequence", seq, "--output", out]).status, 0)
        let done = try etrack(["track", "--model", model, "--sequence", seq, "--output", out, "--resume"])
        XCTAssertTrue(done.output.contains("the run is complete (6 frames); nothing to resume"), done.output)
        let other = try etrack(["track", "--model", model, "--sequence", seq, "--init", "200,150,20,50", "--output", out, "--resume"])
        XCTAssertTrue(other.output.contains("complete") || other.output.contains("initial box"), other.output)
        // A partial run made with another box is refused by name.
        var m = try manifest(out)
        m["status"] = "partial"
        try JSONSerialization.data(withJSONObject: m).write(to: URL(fileURLWithPath: out.replacingOccurrences(of: ".txt", with: "_run.json")))
        let mismatch = try etrack(["track", "--model", model, "--sequence", seq, "--init", "200,150,20,50", "--output", out, "--resume"])
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertTrue(mismatch.output.contains("initial box '205,151,17,50', not '200,150,20,50'"), mismatch.output)
        let both = try etrack(["track", "--model", model, "--sequence", seq, "--output", out, "--resume", "--force"])
        XCTAssertEqual(both.status, 64)
    }

    /// Negative coordinates are a box partly outside the frame: accepted in every spelling.
    func testNegativeInitInEverySpelling() throws {
        let seq = try makeSequence(frames: 4, gtLines: 4)
        for spelling in [["--init", "-10,100,60,60"], ["--init=-10,100,60,60"], ["--init", "-10 100 60 60"], ["--init", " -10,100,60,60"]] {
            let r = try etrack(["track", "--model", model, "--sequence", seq] + spelling)
            XCTAssertEqual(r.status, 0, "\(spelling): \(r.output)")
            XCTAssertEqual(r.output.split(whereSeparator: \.isNewline).first, "-10,100,60,60", "\(spelling)")
        }
        for (bad, says) in [("10,10,0,5", "width and height must be > 0"), ("1,2,3", "is not four numbers"), ("nan,1,2,3", "must be finite"),
                            ("-500,-500,20,20", "lies outside the")] {
            let r = try etrack(["track", "--model", model, "--sequence", seq, "--init", bad])
            XCTAssertNotEqual(r.status, 0, bad)
            XCTAssertTrue(r.output.contains(says), "\(bad): \(r.output)")
        }
    }

    /// A frame of another size mid-sequence stops the run there, naming both sizes, and keeps the frames before.
    func testFrameOfAnotherSizeStopsTheRun() throws {
        let seq = try makeSequence(frames: 8, gtLines: 8)
        let frame4 = seq + "/img/00000004.jpg"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-v", "error", "-y", "-i", frame4, "-vf", "scale=200:100", frame4 + ".jpg"]
        try p.run(); p.waitUntilExit()
        try FileManager.default.removeItem(atPath: frame4)
        try FileManager.default.moveItem(atPath: frame4 + ".jpg", toPath: frame4)
        let out = try temporaryDirectory() + "/s.txt"
        let r = try etrack(["track", "--model", model, "--sequence", seq, "--output", out])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("stopped at frame 4") && r.output.contains("is 200x100, but the first frame is"), r.output)
        XCTAssertEqual(try lines(out).count, 3)
        XCTAssertEqual(try manifest(out)["status"] as? String, "partial")
    }

    /// A frame deleted from a numbered sequence is named, even with --init (no annotation to count against).
    func testMissingFrameIsNamedEvenWithInit() throws {
        let seq = try makeSequence(frames: 8, gtLines: 8)
        try FileManager.default.removeItem(atPath: seq + "/img/00000005.jpg")
        let r = try etrack(["track", "--model", model, "--sequence", seq, "--init", "205,151,17,50"])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("frame 00000005.jpg is missing") && r.output.contains("--allow-frame-gaps"), r.output)
        let allowed = try etrack(["track", "--model", model, "--sequence", seq, "--init", "205,151,17,50", "--allow-frame-gaps"])
        XCTAssertEqual(allowed.status, 0, allowed.output)
        XCTAssertEqual(allowed.output.split(whereSeparator: \.isNewline).filter { $0.split(separator: ",").count == 4 }.count, 7)
    }

    /// A video cut short is tracked to its last decodable frame, with a warning on stderr and in _run.json.
    func testTruncatedVideoWarnsAndRecordsIt() throws {
        let dir = try temporaryDirectory()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: video))
        try bytes.prefix(bytes.count * 4 / 10).write(to: URL(fileURLWithPath: dir + "/cut.avi"))
        let out = dir + "/cut.txt"
        let r = try etrack(["track", "--model", model, "--video", dir + "/cut.avi", "--init", "292,128,146,132", "--output", out])
        XCTAssertEqual(r.status, 0, r.output)
        let n = try lines(out).count
        XCTAssertLessThan(n, 196)
        XCTAssertTrue(r.output.contains("warning") && r.output.contains("declares 196 frames but only \(n) could be decoded"), r.output)
        XCTAssertEqual((try manifest(out)["warnings"] as? [String])?.count, 1)
    }

    /// NaN weights never give a finite box: a NaN backbone is an error at the first frame, a NaN
    /// head stops the run at the second with a 'failed' line that says why.
    func testNonFiniteNetworkOutputsAreNamed() throws {
        let dir = try temporaryDirectory()
        for part in ["backbone", "head"] {
            let m = dir + "/nan-\(part)"
            try FileManager.default.createDirectory(atPath: m, withIntermediateDirectories: true)
            for f in ["backbone.onnx", "head.onnx"] { try FileManager.default.copyItem(atPath: model + "/" + f, toPath: m + "/" + f) }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [TrackCommandTests.python, "-c", """
                import sys, numpy as np, onnx
                from onnx import numpy_helper
                m = onnx.load(sys.argv[1])
                for t in m.graph.initializer:
                    a = numpy_helper.to_array(t)
                    if a.dtype == np.float32 and a.size > 16: t.CopyFrom(numpy_helper.from_array(np.full_like(a, np.nan), t.name))
                onnx.save(m, sys.argv[1])
                """, m + "/\(part).onnx"]
            try p.run(); p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "numpy and onnx of the pinned reference environment")
            let out = dir + "/\(part).txt"
            let r = try etrack(["track", "--model", m, "--sequence", try makeSequence(frames: 5, gtLines: 5), "--output", out])
            XCTAssertEqual(r.status, 1, r.output)
            XCTAssertTrue(r.output.contains("NaN or infinite"), r.output)
            if part == "backbone" {
                XCTAssertTrue(r.output.contains("template feature"), r.output)
                XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing was tracked, so no result files")
            } else {
                XCTAssertTrue(r.output.contains("stopped at frame 2") && r.output.contains("score map"), r.output)
                XCTAssertEqual(try lines(out).count, 1)
                XCTAssertEqual(try lines(dir + "/\(part)_score.txt").last, "nan,0.000000,failed")
            }
        }
    }

    /// SIGINT during `eval run` stops between frames, keeps every finished sequence, exits 130, and
    /// the same command then finishes the rest.
    func testEvalRunInterruptKeepsFinishedSequences() throws {
        let results = try temporaryDirectory() + "/res"
        let args = ["eval", "run", "--tracker", "et-128-fgaf3-bn", "--dataset", "folder", "--root", TrackCommandTests.shared + "/data/sequences",
                    "--sequences", "DAVIS_car-shadow,UAV123_10fps_wakeboard7,OTB_Crossing,VOT_bag", "--results", results, "--quiet"]
        let (status, text) = try runAndSignal(args, signal: SIGINT) { FileManager.default.fileExists(atPath: results + "/DAVIS_car-shadow.txt") }
        XCTAssertEqual(status, 130, text)
        XCTAssertTrue(text.contains("interrupted by SIGINT") && text.contains("run the same command again"), text)
        XCTAssertEqual(try lines(results + "/DAVIS_car-shadow.txt").count, 40, "the finished sequence is kept whole")
        XCTAssertFalse(FileManager.default.fileExists(atPath: results + "/VOT_bag.txt"), "stopped before the last sequence")
        let again = try etrack(args)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("skipped 1") || again.output.contains("skipped 2") || again.output.contains("skipped 3"), again.output)
    }
}
