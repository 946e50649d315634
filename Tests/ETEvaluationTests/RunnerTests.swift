import ETData
import Foundation
import XCTest
@testable import ETEvaluation
import ETImage
import ETTracking

/// A constant-velocity fake: starts at the initial box and moves (+2, +1) px per frame. The frame
/// index is read from the fake frame's first pixel, so the output depends only on the frame.
final class ConstantVelocityTracker: SingleObjectTracker {
    var start = BoundingBox(x: 0, y: 0, width: 0, height: 0)
    let onFrame: @Sendable () -> Void
    init(onFrame: @escaping @Sendable () -> Void = {}) { self.onFrame = onFrame }
    func initialize(frame: Image, box: BoundingBox) throws { start = box }
    func update(frame: Image) throws -> TrackingResult {
        onFrame()
        let k = Double(frame.pixels[0]) + 256 * Double(frame.pixels[1])
        let b = BoundingBox(x: start.x + 2 * k, y: start.y + k, width: start.width, height: start.height + 0.25)
        return TrackingResult(box: b, rawScore: 1, confidence: 1, state: .tracking)
    }
}

/// Frame "…/<k>.jpg" decodes to a 2x1 grey image holding k.
let fakeFrames: OPERunner.FrameLoader = { path in
    let k = Int(((path as NSString).lastPathComponent as NSString).deletingPathExtension)!
    return Image(width: 2, height: 1, channels: 1, pixels: [UInt8(k % 256), UInt8(k / 256)])
}

func syntheticSequences(_ n: Int) -> [TrackingSequence] {
    (0..<n).map { i in
        let frames = 5 + 3 * i
        return TrackingSequence(name: "seq\(i)", framePaths: (0..<frames).map { "/fake/seq\(i)/\($0).jpg" },
                                groundTruth: (0..<frames).map { BoundingBox(x: 10 + Double($0), y: 20, width: 30, height: 40) })
    }
}

final class NoticeLog: @unchecked Sendable {
    let lock = NSLock(); var lines: [String] = []
    func add(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
}

final class CountingFlag: @unchecked Sendable {
    let lock = NSLock(); var n = 0
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}

final class RunnerTests: XCTestCase {
    func files(_ dir: String) -> [String: String] {
        var out: [String: String] = [:]
        for n in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where !n.hasPrefix(".") && !n.hasSuffix("_time.txt") {
            out[n] = try? String(contentsOfFile: dir + "/" + n, encoding: .utf8)
        }
        return out
    }

    func runner(_ seqs: [TrackingSequence], _ dir: String, jobs: Int = 1, cancel: CancellationFlag = CancellationFlag(),
                onFrame: @escaping @Sendable () -> Void = {}) -> OPERunner {
        OPERunner(sequences: seqs, makeTracker: { ConstantVelocityTracker(onFrame: onFrame) }, loadFrame: fakeFrames,
                  options: .init(resultsDir: dir, jobs: jobs), cancellation: cancel)
    }

    func testWritesPytrackingLayout() throws {
        let t = TempDir()
        let out = try runner(syntheticSequences(2), t.path).run()
        for (k, o) in out.enumerated() {
            guard case .ran(let frames, _) = o.1 else { return XCTFail("\(o)") }
            XCTAssertEqual(frames, 5 + 3 * k)
        }
        let text = try String(contentsOfFile: t.path + "/seq0.txt", encoding: .utf8)
        // Row 0 = the initial box; row k = start + (2k, k), height + 0.25.
        XCTAssertEqual(text, "10,20,30,40\n12,21,30,40.25\n14,22,30,40.25\n16,23,30,40.25\n18,24,30,40.25\n")
        let times = try ResultFiles.readTimes(t.path + "/seq0_time.txt")
        XCTAssertEqual(times.count, 5)
        XCTAssertTrue(times.allSatisfy { $0 >= 0 })
    }

    func testResumeAfterAKillGivesTheSameFiles() throws {
        let seqs = syntheticSequences(6)
        let full = TempDir(), resumed = TempDir()
        _ = try runner(seqs, full.path, jobs: 2).run()

        // "Kill" the run after 17 tracked frames, in the middle of a sequence, with 2 jobs.
        let counter = CountingFlag()
        let kill = CancellationFlag()
        _ = try runner(seqs, resumed.path, jobs: 2, cancel: kill, onFrame: { if counter.increment() == 17 { kill.set() } }).run()
        let partial = files(resumed.path)
        XCTAssertGreaterThan(partial.count, 0)
        XCTAssertLessThan(partial.count, seqs.count)
        // A killed process can also leave a temporary file behind and a hand-truncated result:
        // neither may count as finished.
        resumed.file(".seq5.txt.tmp-999-1", "10,20,30,40\n")
        resumed.file("seq4.txt", "10,20,30,40\n")
        let again = try runner(seqs, resumed.path, jobs: 2).run()
        XCTAssertTrue(again.contains { $0.1 == .skipped })
        XCTAssertEqual(files(resumed.path), files(full.path))
        for s in seqs { XCTAssertTrue(FileManager.default.fileExists(atPath: resumed.path + "/\(s.name)_time.txt")) }
        // A third run does nothing.
        XCTAssertTrue(try runner(seqs, resumed.path).run().allSatisfy { $0.1 == .skipped })
    }

    /// A finished-looking result is checked before it is skipped: garbage of the right length, a
    /// NaN box, a short file and a deleted time file are each run again (and said why); a good one is kept.
    func testExistingResultsAreValidatedBeforeSkipping() throws {
        let seqs = syntheticSequences(5)
        let t = TempDir()
        _ = try runner(seqs, t.path).run()
        let good = files(t.path)
        let n = seqs.map(\.count)
        try (String(repeating: "garbage,x,y,z\n", count: n[0])).write(toFile: t.path + "/seq0.txt", atomically: true, encoding: .utf8)
        try ((0..<n[1]).map { $0 == 2 ? "nan,1,2,3" : "1,2,3,4" }.joined(separator: "\n") + "\n").write(toFile: t.path + "/seq1.txt", atomically: true, encoding: .utf8)
        try "1,2,3,4\n".write(toFile: t.path + "/seq2.txt", atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: t.path + "/seq3_time.txt")
        let notices = NoticeLog()
        let out = try runner(seqs, t.path).run(notice: { notices.add($0) })
        XCTAssertEqual(out.map { $0.1 == .skipped }, [false, false, false, false, true], "\(out)")
        XCTAssertEqual(files(t.path), good, "every damaged result was made again")
        XCTAssertTrue(FileManager.default.fileExists(atPath: t.path + "/seq3_time.txt"), "the deleted time file is back")
        let said = notices.lines.joined(separator: "\n")
        for words in ["seq0: running again", "is not a number", "seq1.txt:3: not a finite box", "seq2.txt: 1 boxes for \(n[2]) frames", "seq3_time.txt is missing"] {
            XCTAssertTrue(said.contains(words), "«\(said)» should say «\(words)»")
        }
    }

    func testThreeShardsMergedEqualTheUnshardedRun() throws {
        let seqs = syntheticSequences(7)
        let whole = TempDir(), sharded = TempDir()
        _ = try runner(seqs, whole.path).run()
        var seen: [String] = []
        for i in 0..<3 {
            let part = try Shard(index: i, count: 3).select(seqs)
            seen += part.map(\.name)
            _ = try runner(part, sharded.path).run()
        }
        XCTAssertEqual(seen.sorted(), seqs.map(\.name).sorted())   // disjoint and complete
        XCTAssertEqual(files(sharded.path), files(whole.path))
    }

    func testShardFromTheEnvironment() throws {
        XCTAssertEqual(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "4"]), try Shard(index: 3, count: 4))
        XCTAssertEqual(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "1"]), try Shard(index: 3, count: 4))
        XCTAssertEqual(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "2"], countOverride: 5), try Shard(index: 2, count: 5))
        XCTAssertEqual(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "0", "ETRACK_SHARD_COUNT": "2"]), try Shard(index: 0, count: 2))
        XCTAssertNil(try Shard.fromEnvironment([:]))
        XCTAssertThrowsMessage(try Shard.fromEnvironment(["JOB_COMPLETION_INDEX": "2"]), contains: ["--shard-count"])
        XCTAssertThrowsMessage(try Shard(parsing: "3/3"), contains: ["invalid shard"])
        XCTAssertThrowsMessage(try Shard(parsing: "1-3"), contains: ["expected i/N"])
        XCTAssertEqual(try Shard(index: 1, count: 3).select(Array(0..<8)), [1, 4, 7])
    }

    func testTrackerFailureIsReportedNotDropped() throws {
        final class Failing: SingleObjectTracker {
            func initialize(frame: Image, box: BoundingBox) throws {}
            func update(frame: Image) throws -> TrackingResult { throw EvaluationError("boom") }
        }
        let t = TempDir()
        let out = try OPERunner(sequences: syntheticSequences(1), makeTracker: { Failing() }, loadFrame: fakeFrames,
                                options: .init(resultsDir: t.path)).run()
        XCTAssertEqual(out[0].1, .failed("boom"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: t.path + "/seq0.txt"))
    }

    func testScoringTheRunnerOutput() throws {
        let t = TempDir()
        let seqs = syntheticSequences(2)
        _ = try runner(seqs, t.path).run()
        let r = try Scorer.score([try TrackerResults(parsing: "cv=\(t.path)")], sequences: seqs, kind: .otb, options: .init())
        XCTAssertEqual(r.trackers.count, 1)
        XCTAssertEqual(r.trackers[0].scored, 2)
        // Frame k ≥ 1 of seq0: pred x = 10+2k, GT x = 10+k, so the error grows; frame 0 is exact.
        XCTAssertGreaterThan(r.trackers[0].ope!.auc, 0)
        XCTAssertNotNil(r.trackers[0].speedFPS)
        XCTAssertThrowsMessage(try Scorer.score([TrackerResults(name: "none", runDirs: [t.path + "/missing"])], sequences: seqs, kind: .otb, options: .init()),
                               contains: ["result not found", "missing/seq0.txt", "--skip-missing"])
        var o = Scorer.Options(); o.skipMissing = true
        let skipped = try Scorer.score([TrackerResults(name: "none", runDirs: [t.path + "/missing"])], sequences: seqs, kind: .otb, options: o)
        XCTAssertEqual(skipped.trackers[0].missing, ["seq0", "seq1"])
        XCTAssertNil(skipped.trackers[0].ope)
        _ = try Scorer.json(r)
    }
}
