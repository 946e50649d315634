import ETData
import ArgumentParser
import ETCore
import ETEvaluation
import ETImage
import ETNN
import ETONNX
import ETTracking
import Foundation

/// `etrack bench onestream`: one-stream networks vs ONNX Runtime, tracker step vs cv2.TrackerVit.
struct BenchOneStream: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onestream",
        abstract: "One-stream (TrackerVit-interface) network and tracker-step speed vs ONNX Runtime and OpenCV (1 thread each).",
        discussion: """
        Each MODEL is a configuration name (exported once with seeded random weights, BatchNorm \
        folded: the same file every runtime reads) or an .onnx file. Rounds alternate our \
        measurement and the peers' (each peer in its own Python process, \
        scripts/bench/onestream_peers.py); medians are over all rounds. 'network' runs template \
        and search as ONNX Runtime does; 'network, template cached' is what our tracker pays per \
        frame; 'tracker step' is update() (crop + normalise + network + decode), decoding of the \
        frame excluded, OpenCV-compatible mode vs cv2.TrackerVit, both restarting from the ground \
        truth every --reinit frames because random weights drift.
        """)

    @Argument(help: "Configuration names or .onnx files.")
    var models: [String] = ["et-128-fgaf3-bn", "et-256-fgaf3", "vittrack-d3-c128", "vittrack-opencv-48"]

    @Option(help: "Sequence folder for the tracker-step comparison (img/ + groundtruth.txt).")
    var sequence: String?

    @Option(help: "Network runs per round.")
    var runs: Int = 30

    @Option(help: "Interleaved rounds.")
    var rounds: Int = 3

    @Option(help: "Use at most this many frames of the sequence (0: all).")
    var frames: Int = 60

    @Option(help: "Restart both trackers from the ground truth every N frames (0: only after an error).")
    var reinit: Int = 10

    @Option(help: "The peer script.")
    var peers: String = "scripts/bench/onestream_peers.py"

    @Flag(help: "Skip the peers (ours only).")
    var noPeers = false

    @Flag(help: "Also print where the time goes, per layer.")
    var profile = false

    @Option(help: "Keep the exported .onnx files in this folder (default: a temporary folder, removed).")
    var exportDir: String?

    @Option(help: "Write all medians and ratios as JSON here.")
    var json: String?

    func validate() throws {
        guard runs >= 5, rounds >= 1, frames >= 0, reinit >= 0 else {
            throw ValidationError("--runs must be >= 5, --rounds >= 1, --frames and --reinit >= 0")
        }
        if !noPeers && !FileManager.default.fileExists(atPath: peers) {
            throw ValidationError("peer script \(peers) not found; run from the repository root or pass --peers PATH (or --no-peers)")
        }
    }

    func run() throws {
        let dir = exportDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("etrack-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if exportDir == nil { try? FileManager.default.removeItem(atPath: dir) } }

        var files: [(label: String, path: String)] = []
        for m in models {
            if m.lowercased().hasSuffix(".onnx") { files.append(((m).pathLastComponent, m)); continue }
            let path = (dir).pathAppending("\(m).onnx")
            if !FileManager.default.fileExists(atPath: path) {
                try ModelExporter.write(try RandomWeights.model(try ModelRegistry.configuration(named: m), seed: 0), to: path)
            }
            files.append((m, path))
        }

        var frameImages: [Image] = [], boxes: [BoundingBox?] = []
        if let sequence {
            let seq = try FolderDataset.loadSequence(at: sequence, groundTruth: .prefix)
            let n = frames > 0 ? min(frames, seq.count) : seq.count
            frameImages = try seq.framePaths.prefix(n).map { try ImageIO.read(path: $0) }
            // OpenCV takes integer Rects; start both trackers from the same integers.
            boxes = (0..<n).map { i in
                guard i < seq.groundTruth.count, let b = seq.groundTruth[i], b.width >= 1, b.height >= 1 else { return nil }
                return BoundingBox(x: b.x.rounded(.towardZero), y: b.y.rounded(.towardZero),
                                   width: b.width.rounded(.towardZero), height: b.height.rounded(.towardZero))
            }
        }

        let med = NanoTrackSpeed.median
        var report: [String: [String: [String: Double]]] = [:]
        var versions: [String] = []
        var tables: [String] = []
        for (label, path) in files {
            let model = try OneStreamModel(path: path)
            var ours: [String: [Double]] = [:], theirs: [String: [Double]] = [:]
            for round in 1...rounds {
                FileHandle.standardError.write(Data("\(label): round \(round)/\(rounds)\n".utf8))
                for (k, v) in try OneStreamSpeed.network(model: model, runs: runs) { ours[k, default: []] += v }
                if !noPeers {
                    mergePeer(try runPeer(script: peers, ["--what", "ort", "--model", path, "--runs", "\(runs)"]), into: &theirs, versions: &versions)
                }
                if !frameImages.isEmpty {
                    let tracker = try OneStreamTracker(model: model, parameters: .openCVCompatible)
                    ours["update", default: []] += try OneStreamSpeed.updates(tracker: tracker, frames: frameImages, boxes: boxes, reinitEvery: reinit)
                    if !noPeers {
                        mergePeer(try runPeer(script: peers, ["--what", "opencv", "--model", path, "--sequence", sequence!,
                                                              "--frames", "\(frameImages.count)", "--reinit", "\(reinit)"]),
                                  into: &theirs, versions: &versions)
                    }
                }
            }
            var lines = ["\(label): median ms, 1 thread, \(rounds) interleaved rounds"]
            lines.append("  " + "metric".padding(toLength: 34, withPad: " ", startingAt: 0) + "etrack".leftPad(10) + "peer".leftPad(10) + "peer/etrack".leftPad(13) + "etrack fps".leftPad(12))
            var entry: [String: [String: Double]] = [:]
            for (key, title, peerKey) in [("network", "network (ONNX Runtime)", "network"),
                                          ("network_cached", "network, template cached", ""),
                                          ("update", "tracker step (cv2.TrackerVit)", "update")] {
                guard let v = ours[key], !v.isEmpty else { continue }
                let a = med(v) * 1e3
                var line = "  " + title.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%10.3f", a)
                var e = ["etrack_ms": a, "etrack_fps": 1e3 / a]
                if let p = theirs[peerKey], !p.isEmpty {
                    let b = med(p) * 1e3
                    line += String(format: "%10.3f%12.2fx", b, b / a)
                    e["peer_ms"] = b; e["ratio"] = b / a
                } else {
                    line += String(repeating: " ", count: 22)
                }
                line += String(format: "%12.1f", 1e3 / a)
                entry[key] = e
                lines.append(line)
            }
            report[label] = entry
            if profile { lines += try profileLines(model) }
            tables.append(lines.joined(separator: "\n"))
            print(tables.last!)
            fflush(stdout)
        }
        if !versions.isEmpty { print("peers: " + Set(versions).sorted().joined(separator: ", ")) }
        if let json {
            let data = try JSONSerialization.data(withJSONObject: ["models": models, "rounds": rounds, "runs": runs, "peers": Array(Set(versions)).sorted(), "metrics": report],
                                                  options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: json))
        }
    }

    private func profileLines(_ model: OneStreamModel) throws -> [String] {
        let rows = try OneStreamSpeed.profile(model: model, runs: max(runs / 2, 10))
        let total = rows.map(\.microseconds).reduce(0, +)
        var lines = [String(format: "  where the time goes (full network, mean µs per run, total %.0f µs over %d steps):", total, rows.count)]
        var byOp: [String: (us: Double, n: Int, macs: Int)] = [:]
        for r in rows { byOp[r.op, default: (0, 0, 0)].us += r.microseconds; byOp[r.op, default: (0, 0, 0)].n += 1; byOp[r.op, default: (0, 0, 0)].macs += r.macs }
        for (op, v) in byOp.sorted(by: { $0.value.us > $1.value.us }).prefix(10) {
            let rate = v.macs > 0 ? String(format: "  %6.1f GFLOP/s", 2 * Double(v.macs) / (v.us * 1e3)) : ""
            lines.append(String(format: "    %-22@ %8.1f µs %5.1f%%  (%d steps)", op, v.us, 100 * v.us / total, v.n) + rate)
        }
        lines.append("  slowest steps:")
        for r in rows.sorted(by: { $0.microseconds > $1.microseconds }).prefix(12) {
            let rate = r.macs > 0 ? String(format: "%6.1f GFLOP/s", 2 * Double(r.macs) / (r.microseconds * 1e3)) : ""
            lines.append(String(format: "    %8.1f µs %5.1f%%  ", r.microseconds, 100 * r.microseconds / total) + "\(r.op) \(r.node) \(rate)")
        }
        return lines
    }
}
