import Foundation
import XCTest

/// End-to-end: the `etrack` binary on real frames and on broken input.
final class TrackCommandTests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared").path
    static let model = shared + "/models/nanotrack-v2"
    /// The Python of the OpenCV references (scripts/compare/opencv_versions.sh sets ETRACK_PYTHON).
    static let python = ProcessInfo.processInfo.environment["ETRACK_PYTHON"] ?? "python3"

    /// cv2.__version__ of the reference Python.
    static func referenceOpenCV() throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", "import cv2; print(cv2.__version__)"]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let v = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw NSError(domain: "etrackTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(python) cannot import cv2"]) }
        return v
    }

    /// The built `etrack` next to the test bundle.
    static var etrack: String {
        let dir = Bundle.main.bundleURL
        for candidate in [dir.appendingPathComponent("etrack").path, dir.deletingLastPathComponent().appendingPathComponent("etrack").path]
        where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        return dir.appendingPathComponent("etrack").path
    }

    func testTrackSequenceWritesResultFilesAndRefusesToOverwrite() throws {
        let seq = try makeSequence(frames: 12, gtLines: 12)
        let out = try temporaryDirectory() + "/res/boxes.txt"
        let r = try etrack(["track", "--model", Self.model, "--sequence", seq, "--output", out])
        XCTAssertEqual(r.status, 0, r.output)
        let boxes = try String(contentsOfFile: out, encoding: .utf8).split(whereSeparator: \.isNewline)
        XCTAssertEqual(boxes.count, 12)
        XCTAssertEqual(boxes.first, "205,151,17,50", "the first line is the init box")
        let times = try String(contentsOfFile: out.replacingOccurrences(of: ".txt", with: "_time.txt"), encoding: .utf8).split(whereSeparator: \.isNewline)
        let scores = try String(contentsOfFile: out.replacingOccurrences(of: ".txt", with: "_score.txt"), encoding: .utf8).split(whereSeparator: \.isNewline)
        XCTAssertEqual(times.count, 12)
        XCTAssertEqual(scores.count, 12)
        XCTAssertTrue(scores.dropFirst().allSatisfy { $0.hasSuffix(",tracking") || $0.hasSuffix(",uncertain") || $0.hasSuffix(",lost") })
        let again = try etrack(["track", "--model", Self.model, "--sequence", seq, "--output", out])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.output.contains("exists"), again.output)
        XCTAssertEqual(try etrack(["track", "--model", Self.model, "--sequence", seq, "--output", out, "--force"]).status, 0)
    }

    func testTrackVideoRendersIntoANewFolder() throws {
        let dir = try temporaryDirectory()
        let video = Self.shared + "/data/videos/pysot_demo_bag.avi"
        let r = try etrack(["track", "--model", Self.model, "--video", video, "--init", "292,128,146,132",
                            "--output", dir + "/out/bag.txt", "--render", dir + "/new/folder/bag.mp4"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(try String(contentsOfFile: dir + "/out/bag.txt", encoding: .utf8).split(whereSeparator: \.isNewline).count, 196)
        let size = (try FileManager.default.attributesOfItem(atPath: dir + "/new/folder/bag.mp4")[.size] as? Int) ?? 0
        XCTAssertGreaterThan(size, 10_000)
    }

    /// A built-in configuration name runs as a one-stream tracker (seeded, untrained weights).
    func testTrackWithAConfigurationName() throws {
        let seq = try makeSequence(frames: 5, gtLines: 5)
        let out = try temporaryDirectory() + "/vit.txt"
        let r = try etrack(["track", "--model", "vittrack-opencv-48", "--sequence", seq, "--output", out])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8).split(whereSeparator: \.isNewline).count, 5)
    }

    func testBadInputGivesClearErrors() throws {
        let seq = try makeSequence(frames: 6, gtLines: 6)
        let cases: [([String], String)] = [
            (["--sequence", seq, "--init", "1,2,3"], "not four numbers"),
            (["--sequence", seq, "--init", "nan,2,30,30"], "every value must be finite"),
            (["--sequence", seq, "--init", "10,10,0,30"], "width and height must be > 0"),
            (["--sequence", seq, "--init", "5000,10,30,30"], "outside"),
            (["--sequence", seq + "/missing"], "missing"),
            (["--sequence", try makeSequence(frames: 6, gtLines: 4)], "groundtruth.txt"),
            (["--sequence", try makeSequence(frames: 6, gtLines: 6, corruptFrame: 3)], "00000004.jpg"),
            (["--video", "/nonexistent.mp4", "--init", "1,1,5,5"], "/nonexistent.mp4"),
            (["--sequence", seq, "--opencv-version", "4.6"], "OpenCV 4.6 is not supported"),
            (["--sequence", seq, "--opencv-version", "five"], "not MAJOR.MINOR"),
            (["--sequence", seq, "--mode", "corrected", "--opencv-version", "5.0"], "applies to --mode opencv"),
            (["--sequence", seq, "--model", Self.shared + "/models/nanotrack-v3", "--opencv-version", "5.0"], "runs in the corrected mode"),
        ]
        for (args, words) in cases {
            let r = try etrack(["track", "--model", Self.model] + args)
            XCTAssertNotEqual(r.status, 0, "\(args) should fail")
            XCTAssertTrue(r.output.contains(words), "«\(r.output)» should mention «\(words)» for \(args)")
            XCTAssertFalse(r.output.contains("Fatal error"), "no crash for \(args): \(r.output)")
        }
        let noModel = try etrack(["track", "--model", "/no/such/model", "--sequence", seq])
        XCTAssertNotEqual(noModel.status, 0)
        XCTAssertTrue(noModel.output.contains("/no/such/model"), noModel.output)
    }
}

/// Running the binary and making small sequences, for every end-to-end test class.
extension XCTestCase {
    @discardableResult
    func etrack(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TrackCommandTests.etrack)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Starts `etrack args`, waits (up to 60 s) until `ready()`, then sends `signal`.
    func runAndSignal(_ args: [String], signal: Int32, when ready: () -> Bool) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TrackCommandTests.etrack)
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, p.isRunning, !ready() { Thread.sleep(forTimeInterval: 0.005) }
        kill(p.processIdentifier, signal)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    func temporaryDirectory() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("etrack-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// A small sequence: the first `n` frames of a shared one, with `gtLines` ground-truth lines.
    func makeSequence(frames n: Int, gtLines: Int, corruptFrame: Int? = nil) throws -> String {
        let src = TrackCommandTests.shared + "/data/sequences/OTB_Crossing"
        let dst = try temporaryDirectory() + "/seq"
        try FileManager.default.createDirectory(atPath: dst + "/img", withIntermediateDirectories: true)
        let files = try FileManager.default.contentsOfDirectory(atPath: src + "/img").sorted().prefix(n)
        for (i, f) in files.enumerated() {
            if i == corruptFrame { try Data("not a jpeg".utf8).write(to: URL(fileURLWithPath: dst + "/img/" + f)) }
            else { try FileManager.default.copyItem(atPath: src + "/img/" + f, toPath: dst + "/img/" + f) }
        }
        let gt = try String(contentsOfFile: src + "/groundtruth.txt", encoding: .utf8).split(whereSeparator: \.isNewline).prefix(gtLines)
        try (gt.joined(separator: "\n") + "\n").write(toFile: dst + "/groundtruth.txt", atomically: true, encoding: .utf8)
        return dst
    }
}

/// A run that cannot go on keeps what it tracked: a tracker failure (cv2.TrackerVit 5.0 throws when
/// its window leaves the frame), an undecodable frame mid-sequence, and SIGINT.
final class TrackFailureTests: XCTestCase {
    /// The fixed-map "drift" model of scripts/reference/trackervit_models.py, written once.
    static let driftModel: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("etrack-e2e-models-\(getpid())").path
        let script = TrackCommandTests.repoRoot.appendingPathComponent("scripts/reference/trackervit_models.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [TrackCommandTests.python, script, dir]
        try! p.run()
        p.waitUntilExit()
        precondition(p.terminationStatus == 0, "trackervit_models.py failed (needs numpy and onnx: scripts/setup.sh)")
        return dir + "/drift.onnx"
    }()

    func lines(_ path: String) throws -> [Substring] {
        try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline)
    }

    /// Where cv2.TrackerVit 5.0 would throw, the OpenCV 5.0 mode stops with exit 1, names the frame,
    /// and keeps every frame before it; the score file ends with a 'failed' line. Where the
    /// reference Python runs OpenCV 5.0 or 4.x, the kept boxes are cv2's and it threw at that frame.
    func testTrackerFailureKeepsTheFramesBefore() throws {
        let seq = TrackCommandTests.shared + "/data/sequences/OTB_Crossing"
        let out = try temporaryDirectory() + "/drift.txt"
        let r = try etrack(["track", "--model", Self.driftModel, "--sequence", seq, "--mode", "opencv",
                                "--opencv-version", "5.0", "--output", out])
        XCTAssertEqual(r.status, 1, r.output)
        let boxes = try lines(out), scores = try lines(out.replacingOccurrences(of: ".txt", with: "_score.txt"))
        let times = try lines(out.replacingOccurrences(of: ".txt", with: "_time.txt"))
        let frames = try FileManager.default.contentsOfDirectory(atPath: seq + "/img").count
        XCTAssertGreaterThan(boxes.count, 5, "the drift model tracks a while before the window leaves the frame")
        XCTAssertLessThan(boxes.count, frames)
        XCTAssertEqual(times.count, boxes.count)
        XCTAssertEqual(scores.count, boxes.count + 1, "one more score line: the frame that failed")
        XCTAssertEqual(scores.last, "nan,0.000000,failed")
        XCTAssertTrue(r.output.contains("stopped at frame \(boxes.count + 1)") && r.output.contains("cv2.TrackerVit throws here"), r.output)
        XCTAssertTrue(r.output.contains("kept the \(boxes.count) frames"), r.output)

        // The same run under OpenCV 5.1 never fails: 5.1 clips the box to the frame.
        let clipped = try etrack(["track", "--model", Self.driftModel, "--sequence", seq, "--mode", "opencv", "--output", out, "--force"])
        XCTAssertEqual(clipped.status, 0, clipped.output)
        XCTAssertEqual(try lines(out).count, frames)

        // Against cv2 itself where the reference is a release that throws.
        let version = try TrackCommandTests.referenceOpenCV()
        guard version.hasPrefix("5.0") || version.hasPrefix("4.") else { return }
        let init0 = String(boxes[0])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [TrackCommandTests.python, TrackCommandTests.repoRoot.appendingPathComponent("scripts/reference/trackervit_opencv.py").path,
                       "--models", Self.driftModel, "--sequence", seq, "--init", init0]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let steps = text.split(whereSeparator: \.isNewline).map { $0.split(separator: " ") }
        let errorFrame = steps.first { $0.count >= 3 && $0[2] == "error" }.map { Int($0[1])! }
        XCTAssertEqual(errorFrame, boxes.count, "cv2.TrackerVit \(version) throws at the frame where we stopped")
        let cvBoxes = steps.filter { $0.count == 8 && $0[2] == "ok" }.map { $0[3...6].joined(separator: ",") }
        XCTAssertEqual(cvBoxes, boxes.dropFirst().map(String.init), "the kept boxes are cv2's")
    }

    /// An undecodable frame mid-sequence keeps the frames before it.
    func testUndecodableFrameKeepsTheFramesBefore() throws {
        let seq = try makeSequence(frames: 8, gtLines: 8, corruptFrame: 5)
        let out = try temporaryDirectory() + "/new/folder/c.txt"
        let r = try etrack(["track", "--model", TrackCommandTests.model, "--sequence", seq, "--output", out])
        XCTAssertEqual(r.status, 1, r.output)
        XCTAssertTrue(r.output.contains("created the output folder"), r.output)
        XCTAssertTrue(r.output.contains("stopped at frame 6") && r.output.contains("00000006.jpg"), r.output)
        XCTAssertEqual(try lines(out).count, 5)
        XCTAssertEqual(try lines(out.replacingOccurrences(of: ".txt", with: "_score.txt")).last, "nan,0.000000,failed")
    }

    /// A read-only output folder is refused before any frame is tracked.
    func testUnwritableOutputIsRefusedUpFront() throws {
        guard getuid() != 0 else {
            // root writes anywhere; a path under a regular file cannot be created by anyone.
            let file = try temporaryDirectory() + "/plain"
            FileManager.default.createFile(atPath: file, contents: Data())
            let r = try etrack(["track", "--model", TrackCommandTests.model, "--sequence", try makeSequence(frames: 3, gtLines: 3),
                                    "--output", file + "/sub/out.txt"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.output.contains("cannot create the output folder"), r.output)
            XCTAssertFalse(r.output.contains("tracking:"), "refused before tracking: \(r.output)")
            return
        }
        let dir = try temporaryDirectory()
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir)
        let r = try etrack(["track", "--model", TrackCommandTests.model, "--sequence", try makeSequence(frames: 3, gtLines: 3),
                                "--output", dir + "/out.txt"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("cannot write in the output folder"), r.output)
    }

    /// SIGINT mid-run: the frame in hand is finished, everything tracked is written, the score file
    /// ends with an 'interrupted' line, and the exit status is 130.
    func testInterruptKeepsTheFramesTracked() throws {
        let out = try temporaryDirectory() + "/int.txt"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TrackCommandTests.etrack)
        // A slow, untrained one-stream model so the run lasts seconds.
        p.arguments = ["track", "--model", "et-256-fgaf3", "--video", TrackCommandTests.shared + "/data/videos/pysot_demo_bag.avi",
                       "--init", "292,128,146,132", "--output", out]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Wait for the first progress line, then interrupt.
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("tracking:") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += chunk
        }
        Thread.sleep(forTimeInterval: 0.3)
        kill(p.processIdentifier, SIGINT)
        seen += err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: seen, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 130, text)
        let boxes = try lines(out), scores = try lines(out.replacingOccurrences(of: ".txt", with: "_score.txt"))
        XCTAssertGreaterThan(boxes.count, 0)
        XCTAssertLessThan(boxes.count, 196, "interrupted before the end")
        XCTAssertEqual(scores.count, boxes.count + 1)
        XCTAssertEqual(scores.last, "nan,0.000000,interrupted")
        XCTAssertTrue(text.contains("interrupted by SIGINT"), text)
    }
}
