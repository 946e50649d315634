import ETData
import ETImage
import ETTracking
import Foundation

/// Fixed-map and pixel-dependent one-stream models (scripts/reference/trackervit_models.py) and the cv2.TrackerVit
/// reference runner (scripts/reference/trackervit_opencv.py).
enum OneStreamFixtures {
    /// The models compared with cv2.TrackerVit (their maps do not depend on the frame).
    static let modelNames = ["still", "drift", "driftback", "flat", "lost"]
    /// Models whose score, size and offset maps depend on the normalised search planes.
    static let pixelModelNames = ["pixels", "content", "contentlost"]

    /// A fresh folder with the plain models, the `--bad` ones, and the same models with metadata under meta/.
    static let directory: String = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("etrack-onestream-\(ProcessInfo.processInfo.processIdentifier)").path
        try? FileManager.default.removeItem(atPath: dir)
        let generator = OneStreamFixtures.script("trackervit_models.py")
        let (a, _) = try! TrackingFixtures.run([TrackingFixtures.python, generator, dir, "--bad"])
        let (b, _) = try! TrackingFixtures.run([TrackingFixtures.python, generator, dir + "/meta", "--metadata"])
        precondition(a == 0 && b == 0, "trackervit_models.py failed (needs numpy and onnx)")
        return dir
    }()

    static func script(_ name: String) -> String {
        TrackingFixtures.repoRoot.appendingPathComponent("scripts/reference/\(name)").path
    }

    static func path(_ name: String, metadata: Bool = false) -> String {
        directory + (metadata ? "/meta/" : "/") + name + ".onnx"
    }

    /// One line of trackervit_opencv.py's output.
    struct Step {
        enum Status: String { case initialised = "init", ok, lost, error }
        var frame: Int
        var status: Status
        var box: BoundingBox?
        var score: Double?
    }

    /// Starts cv2.TrackerVit on a sequence with the given models; call `wait()` for the steps per model.
    final class Reference {
        private let process = Process()
        private let pipe = Pipe()
        private var data = Data()
        private let reader = DispatchGroup()

        init(models: [String], sequence: String, initBox: BoundingBox, black: Range<Int>? = nil, frames: Int? = nil) throws {
            var args = [TrackingFixtures.python, OneStreamFixtures.script("trackervit_opencv.py"), "--models",
                        models.map { OneStreamFixtures.path($0) }.joined(separator: ","),
                        "--sequence", sequence, "--init", initBox.description]
            if let black { args += ["--black", "\(black.lowerBound):\(black.upperBound)"] }
            if let frames { args += ["--frames", String(frames)] }
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = args
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            reader.enter()
            let handle = pipe.fileHandleForReading
            DispatchQueue.global().async { [self] in
                data = handle.readDataToEndOfFile()
                reader.leave()
            }
        }

        func wait() -> (status: Int32, steps: [String: [Step]]) {
            reader.wait()
            process.waitUntilExit()
            var steps: [String: [Step]] = [:]
            for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
                let f = line.split(separator: " ")
                guard f.count >= 3, let frame = Int(f[1]), let status = Step.Status(rawValue: String(f[2])) else { continue }
                var step = Step(frame: frame, status: status)
                if f.count == 8 {
                    step.box = BoundingBox(parsing: f[3...6].joined(separator: ","))
                    step.score = Double(f[7])
                }
                steps[String(f[0]), default: []].append(step)
            }
            return (process.terminationStatus, steps)
        }
    }

    /// The sequence's first ground-truth box truncated to integers (what cv2 gets as a Rect).
    static func integerInitBox(_ sequence: String) throws -> BoundingBox {
        let b = try TrackingFixtures.groundTruth(sequence)[0]
        return BoundingBox(x: b.x.rounded(.towardZero), y: b.y.rounded(.towardZero),
                           width: b.width.rounded(.towardZero), height: b.height.rounded(.towardZero))
    }

    static var sequenceNames: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: TrackingFixtures.shared.appendingPathComponent("data/sequences").path))?
            .filter { FileManager.default.fileExists(atPath: TrackingFixtures.sequence($0) + "/groundtruth.txt") }.sorted() ?? []
    }
}
