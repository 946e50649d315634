import Foundation
import XCTest

/// End-to-end: the `etrack` binary on real frames and on broken input.
final class TrackCommandTests: XCTestCase {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared").path
    static let model = shared + "/models/nanotrack-v2"

    /// The built `etrack` next to the test bundle.
    static var etrack: String {
        let dir = Bundle.main.bundleURL
        for candidate in [dir.appendingPathComponent("etrack").path, dir.deletingLastPathComponent().appendingPathComponent("etrack").path]
        where FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        return dir.appendingPathComponent("etrack").path
    }

    @discardableResult
    func etrack(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.etrack)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func temporaryDirectory() throws -> String {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("etrack-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// A small sequence: the first `n` frames of a shared one, with `gtLines` ground-truth lines.
    func makeSequence(frames n: Int, gtLines: Int, corruptFrame: Int? = nil) throws -> String {
        let src = Self.shared + "/data/sequences/OTB_Crossing"
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
            (["--sequence", seq, "--init", "nan,2,30,30"], "not finite"),
            (["--sequence", seq, "--init", "10,10,0,30"], "empty"),
            (["--sequence", seq, "--init", "5000,10,30,30"], "outside"),
            (["--sequence", seq + "/missing"], "missing"),
            (["--sequence", try makeSequence(frames: 6, gtLines: 4)], "groundtruth.txt"),
            (["--sequence", try makeSequence(frames: 6, gtLines: 6, corruptFrame: 3)], "00000004.jpg"),
            (["--video", "/nonexistent.mp4", "--init", "1,1,5,5"], "/nonexistent.mp4"),
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
