import Foundation
import XCTest

/// `etrack train` end to end: an interrupt (SIGINT) or a kill (SIGKILL) loses no more than the
/// steps since the last checkpoint, `--resume` then gives the uninterrupted run's weights byte
/// for byte, and bad arguments are refused with messages that say what to do.
final class TrainCommandTests: XCTestCase {
    static let model = "et-128-fgaf3-bn@channels=64,depth=1,headChannels=32,templateSize=64,searchSize=128"
    let data = "folder:" + TrackCommandTests.shared + "/data/sequences/DAVIS_car-shadow"

    func arguments(_ out: String, steps: Int = 12) -> [String] {
        ["train", "--model", Self.model, "--data", data, "--steps", "\(steps)", "--batch-size", "4",
         "--checkpoint-every", "2", "--out", out]
    }

    func logLines(_ dir: String) -> Int {
        ((try? String(contentsOfFile: dir + "/log.jsonl", encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func testInterruptedAndKilledRunsResumeToTheUninterruptedWeights() throws {
        let dir = try temporaryDirectory()
        let ref = dir + "/ref"
        let done = try etrack(arguments(ref, steps: 40))
        XCTAssertEqual(done.status, 0, done.output)
        for signal in [SIGINT, SIGKILL] {
            let out = dir + "/run-\(signal)"
            let stopped = try runAndSignal(arguments(out, steps: 40), signal: signal) { self.logLines(out) >= 5 }
            if signal == SIGINT {
                XCTAssertEqual(stopped.status, 130, stopped.stderr)
                XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/checkpoint.safetensors"), "SIGINT writes a checkpoint")
            } else {
                XCTAssertEqual(stopped.status, SIGKILL)
            }
            XCTAssertLessThan(logLines(out), 40, "stopped before the end (else the test proves nothing)")
            let resumed = try etrack(arguments(out, steps: 40) + ["--resume"])
            XCTAssertEqual(resumed.status, 0, resumed.output)
            XCTAssertEqual(try bytes(out + "/model.safetensors"), try bytes(ref + "/model.safetensors"), "signal \(signal)")
            XCTAssertEqual(try bytes(out + "/checkpoint.safetensors"), try bytes(ref + "/checkpoint.safetensors"), "signal \(signal)")
            XCTAssertEqual(logLines(out), 40)
        }
    }

    func testBadArgumentsAreRefusedWithWhatToDo() throws {
        let dir = try temporaryDirectory()
        let out = dir + "/run"
        func refused(_ args: [String], _ needles: [String], _ what: String) throws {
            let r = try etrack(args)
            XCTAssertNotEqual(r.status, 0, what)
            for n in needles { XCTAssertTrue(r.output.contains(n), "\(what): expected '\(n)' in: \(r.output)") }
        }
        var a = arguments(out)
        a[a.firstIndex(of: data)!] = "nosuch:/x"
        try refused(a, ["unknown data kind 'nosuch'", "folder"], "unknown data kind")
        a = arguments(out)
        a[a.firstIndex(of: data)!] = "folder:/no/such/data"
        try refused(a, ["/no/such/data"], "missing data folder")
        try refused(arguments(out) + ["--resume"], ["no checkpoint to resume"], "--resume without a run")
        try refused(arguments(out) + ["--init", "/no/such.safetensors"], ["/no/such.safetensors"], "missing --init file")
        XCTAssertEqual(try etrack(arguments(out, steps: 2)).status, 0)
        try refused(arguments(out, steps: 4), ["already holds a run", "--resume"], "a second run into the same folder")
        try refused(arguments(out, steps: 4) + ["--resume", "--lr", "1e-3"], ["other settings", "learning rate"], "resume with another rate")
        try refused(arguments(out, steps: 4) + ["--resume", "--threads", "2"], ["threads 1 → 2", "--threads 1"], "resume with other threads")
        try refused(["train", "--model", "et-256-fgaf3", "--data", data, "--steps", "1", "--out", dir + "/other",
                     "--init", out + "/model.safetensors"], ["another shape", "patch_embed.0.conv.weight"], "--init of another configuration")
        // A resume from another working directory with a relative path is the same run.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: TrackCommandTests.etrack)
        p.currentDirectoryURL = URL(fileURLWithPath: TrackCommandTests.shared + "/data")
        p.arguments = ["train", "--model", Self.model, "--data", "folder:sequences/DAVIS_car-shadow", "--steps", "4", "--batch-size", "4",
                       "--checkpoint-every", "2", "--out", out, "--resume"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "the data path is recorded absolute")
    }
}
