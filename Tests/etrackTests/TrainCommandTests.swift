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

    /// `--validate`: the numbers logged at a step are what `etrack eval run` + `eval score
    /// --variant ostrack` give for the weights of that step (here the last, model.safetensors).
    func testValidationEqualsTheEvaluationToolkitOnTheWrittenWeights() throws {
        let dir = try temporaryDirectory()
        let held = dir + "/held-out"
        try FileManager.default.createDirectory(atPath: held, withIntermediateDirectories: true)
        for name in ["OTB_Crossing", "VOT_bag"] {
            try FileManager.default.createSymbolicLink(atPath: held + "/" + name, withDestinationPath: TrackCommandTests.shared + "/data/sequences/" + name)
        }
        let out = dir + "/run"
        let r = try etrack(arguments(out, steps: 6) + ["--validate", held, "--validate-every", "3"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("validation AUC"), r.output)
        XCTAssertFalse(r.output.contains("not held-out"), "no sequence is shared with --data")
        let lines = try String(contentsOfFile: out + "/log.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(lines.filter { $0["validation_auc"] != nil }.map { $0["step"] as! Int }, [3, 6])
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/validation.svg"))
        let last = lines.last!
        let results = dir + "/results", report = dir + "/score.json"
        XCTAssertEqual(try etrack(["eval", "run", "--tracker", out + "/model.safetensors", "--dataset", "folder", "--root", held,
                                   "--results", results, "--quiet"]).status, 0)
        XCTAssertEqual(try etrack(["eval", "score", "--dataset", "folder", "--root", held, "--results", "t=" + results,
                                   "--variant", "ostrack", "--json", report]).status, 0)
        let score = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as! [String: Any]
        let t = (score["trackers"] as! [[String: Any]])[0]
        for (a, b) in [("validation_auc", "auc"), ("validation_precision", "precision"), ("validation_norm_precision", "norm_precision")] {
            XCTAssertEqual(last[a] as! Double, t[b] as! Double, accuracy: 1e-9, a)
        }
        // The training sequence as validation is flagged: its numbers are not held-out.
        let flagged = try etrack(arguments(dir + "/flagged", steps: 1) + ["--validate", String(data.dropFirst("folder:".count))])
        XCTAssertTrue(flagged.output.contains("not held-out"), flagged.output)
        try refusedValidation(dir)
    }

    func refusedValidation(_ dir: String) throws {
        let r = try etrack(arguments(dir + "/bad", steps: 1) + ["--validate", "got10k:/x"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.output.contains("folder layout only"), r.output)
    }
}
