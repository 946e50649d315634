import ETData
import ArgumentParser
import ETCore
import ETEvaluation
import ETImage
import ETTracking
import Foundation

/// `etrack bench`: speed against peers, measured side by side in one run.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure speed against peers (ONNX Runtime, OpenCV) side by side.",
        subcommands: [BenchNanoTrack.self, BenchOneStream.self, BenchSoak.self, BenchTrain.self])
}

/// `etrack bench nanotrack`: NanoTrack networks vs ONNX Runtime, tracker update vs cv2.TrackerNano.
struct BenchNanoTrack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nanotrack",
        abstract: "NanoTrack network and tracker-step speed vs ONNX Runtime and OpenCV (1 thread each).",
        discussion: """
        Rounds alternate our measurement and the peers' (each peer in its own Python process, \
        scripts/bench/nanotrack_peers.py) so that machine load hits both alike; medians are over \
        all rounds. Decoding is excluded for both trackers. Needs python3 with onnxruntime and \
        opencv-python-headless for the peer columns (--no-peers skips them).
        """)

    @Option(help: "NanoTrack model folder (backbone.onnx + head.onnx).")
    var model: String

    @Option(help: "Sequence folder for the tracker-step comparison (img/ + groundtruth.txt).")
    var sequence: String?

    @Option(help: "Network runs per round.")
    var runs: Int = 100

    @Option(help: "Interleaved rounds.")
    var rounds: Int = 3

    @Option(help: "Use at most this many frames of the sequence (0: all).")
    var frames: Int = 0

    @Option(help: "The peer script.")
    var peers: String = "scripts/bench/nanotrack_peers.py"

    @Flag(help: "Skip the peers (ours only).")
    var noPeers = false

    @Flag(help: "Also print where the time goes, per layer (backbone at 255 and head).")
    var profile = false

    @Option(help: "Write all medians and ratios as JSON here.")
    var json: String?

    func validate() throws {
        guard runs >= 5, rounds >= 1 else { throw ValidationError("--runs must be >= 5 and --rounds >= 1") }
        if !noPeers && !FileManager.default.fileExists(atPath: peers) {
            throw ValidationError("peer script \(peers) not found; run from the repository root or pass --peers PATH (or --no-peers)")
        }
    }

    func run() throws {
        let nano = try NanoTrackModel(directory: model)
        var ours: [String: [Double]] = [:], theirs: [String: [Double]] = [:]
        var versions: [String] = []
        var frameImages: [Image] = [], initBox: BoundingBox?
        if let sequence {
            let seq = try FolderDataset.loadSequence(at: sequence, groundTruth: .prefix)
            let paths = frames > 0 ? Array(seq.framePaths.prefix(frames)) : seq.framePaths
            frameImages = try paths.map { try ImageIO.read(path: $0) }
            guard let b = seq.initialBox else { throw ValidationError("\(sequence): the first box is NaN") }
            // OpenCV takes an integer Rect; start both from the same integers.
            initBox = BoundingBox(x: b.x.rounded(.towardZero), y: b.y.rounded(.towardZero),
                                  width: b.width.rounded(.towardZero), height: b.height.rounded(.towardZero))
        }
        for round in 1...rounds {
            FileHandle.standardError.write(Data("round \(round)/\(rounds)\n".utf8))
            for (k, v) in try NanoTrackSpeed.networks(model: nano, runs: runs) { ours[k, default: []] += v }
            if !noPeers { mergePeer(try runPeer(script: peers, ["--what", "ort", "--model", model, "--runs", "\(runs)"]), into: &theirs, versions: &versions) }
            if let initBox {
                let tracker = try NanoTracker(model: nano)
                ours["update", default: []] += try NanoTrackSpeed.updates(tracker: tracker, frames: frameImages, initBox: initBox)
                if !noPeers {
                    mergePeer(try runPeer(script: peers, ["--what", "opencv", "--model", model, "--sequence", sequence!, "--frames", "\(frames)"]), into: &theirs, versions: &versions)
                }
            }
        }
        let med = NanoTrackSpeed.median
        print("NanoTrack \(nano.version.rawValue) (\(model)), 1 thread, median ms over \(rounds) interleaved rounds")
        if !versions.isEmpty { print("peers: " + Set(versions).sorted().joined(separator: ", ")) }
        print("metric".padding(toLength: 26, withPad: " ", startingAt: 0) + "etrack".leftPad(10) + "peer".leftPad(10) + "peer/etrack".leftPad(13))
        var report: [String: [String: Double]] = [:]
        let rows: [(String, String, String)] = [
            ("backbone_127", "backbone 127 (ORT)", "backbone_127"), ("backbone_255", "backbone 255 (ORT)", "backbone_255"),
            ("head", "head (ORT)", "head"), ("search_step", "backbone 255 + head (ORT)", "search_step"),
            ("update", "tracker update (OpenCV)", "update"),
        ]
        for (key, label, peerKey) in rows where ours[key] != nil {
            let a = med(ours[key]!) * 1e3
            var line = label.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: "%10.3f", a)
            var entry = ["etrack_ms": a]
            if let p = theirs[peerKey], !p.isEmpty {
                let b = med(p) * 1e3
                line += String(format: "%10.3f%12.2fx", b, b / a)
                entry["peer_ms"] = b; entry["ratio"] = b / a
            }
            report[key] = entry
            print(line)
        }
        if profile {
            let rowsP = try NanoTrackSpeed.profile(model: nano, runs: 50)
            let total = rowsP.map(\.microseconds).reduce(0, +)
            print("\nwhere the time goes (backbone 255 + head, mean µs per run, top 20 of \(rowsP.count) steps, total \(String(format: "%.0f", total)) µs):")
            var byOp: [String: (Double, Int)] = [:]
            for r in rowsP {
                let kind = r.op.hasPrefix("Conv") ? "Conv (\(r.network))" : r.op
                byOp[kind, default: (0, 0)].0 += r.microseconds
                byOp[kind, default: (0, 0)].1 += 1
            }
            print("by op: " + byOp.sorted { $0.value.0 > $1.value.0 }.map { String(format: "%@ %.0f µs (%d)", $0.key, $0.value.0, $0.value.1) }.joined(separator: ", "))
            for r in rowsP.sorted(by: { $0.microseconds > $1.microseconds }).prefix(20) {
                let gflops = r.macs > 0 ? String(format: "%6.1f GFLOP/s", 2 * Double(r.macs) / (r.microseconds * 1e3)) : ""
                print(String(format: "%8.1f µs %5.1f%%  ", r.microseconds, 100 * r.microseconds / total) + "\(r.network) \(r.op) \(r.node) \(gflops)")
            }
        }
        if let json {
            let data = try JSONSerialization.data(withJSONObject: ["model": model, "rounds": rounds, "runs": runs, "peers": Array(Set(versions)), "metrics": report], options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
        }
    }
}

/// Runs a peer script (`python3 SCRIPT ARGS`) that prints one JSON object; stderr is discarded.
func runPeer(script: String, _ args: [String]) throws -> [String: Any] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", script] + args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0, let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw ValidationError("peer run failed: python3 \(script) \(args.joined(separator: " ")) (exit \(p.terminationStatus)); is onnxruntime / opencv-python-headless installed?")
    }
    return obj
}

/// Appends a peer's per-run seconds to `into` and its version strings to `versions`.
func mergePeer(_ r: [String: Any], into: inout [String: [Double]], versions: inout [String]) {
    for (k, v) in r {
        if let s = v as? [Double] { into[k, default: []] += s } else if let s = v as? String { versions.append(s) }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
