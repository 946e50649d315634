import ETData
import ETImage
import ETTracking
import Foundation

enum TrackingFixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")

    static func model(_ v: String) -> String { shared.appendingPathComponent("models/nanotrack-\(v)").path }
    static func sequence(_ name: String) -> String { shared.appendingPathComponent("data/sequences/\(name)").path }

    /// Loaded models, shared by all tests (loading is the slow part).
    static let models: [String: NanoTrackModel] = {
        var m: [String: NanoTrackModel] = [:]
        for v in ["v1", "v2", "v3"] { m[v] = try! NanoTrackModel(directory: model(v)) }
        return m
    }()

    static func frames(_ name: String, limit: Int? = nil) throws -> [Image] {
        let dir = sequence(name) + "/img"
        var files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".jpg") }.sorted()
        if let limit { files = Array(files.prefix(limit)) }
        return try files.map { try ImageIO.read(path: dir + "/" + $0) }
    }

    static func groundTruth(_ name: String) throws -> [BoundingBox] {
        try String(contentsOfFile: sequence(name) + "/groundtruth.txt", encoding: .utf8)
            .split(whereSeparator: \.isNewline).map { BoundingBox(parsing: $0)! }
    }

    /// The Python that runs the OpenCV references: `ETRACK_PYTHON` (scripts/compare/opencv_versions.sh
    /// points it at each pinned OpenCV in turn), else `python3`.
    static let python = ProcessInfo.processInfo.environment["ETRACK_PYTHON"] ?? "python3"

    /// The cv2 releases the OpenCV comparisons were written for and run against, and the
    /// behaviour each reproduces: opencv-python-headless 5.1.0.95 (pinned in
    /// scripts/requirements-reference.txt), 5.0.0.93 and 4.14.0.94 (scripts/compare/opencv_versions.sh).
    static let openCVWrittenFor: [(found: String, version: OpenCVVersion)] =
        [("5.1.0", .v5_1), ("5.0.0", .v5_0), ("4.14.0", try! OpenCVVersion("4.14"))]

    /// The OpenCV release of the reference Python, checked once.
    private static let referenceOpenCVResult: Result<OpenCVVersion, TrackingError> = {
        guard let (status, out) = try? run([python, "-c", "import cv2; print(cv2.__version__)"]), status == 0 else {
            return .failure(TrackingError("\(python) cannot import cv2: run scripts/setup.sh (it installs scripts/requirements-reference.txt)"))
        }
        let found = out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let match = openCVWrittenFor.first(where: { $0.found == found }) else {
            return .failure(TrackingError("\(python) has OpenCV \(found), but these comparisons were written for OpenCV "
                + openCVWrittenFor.map(\.found).joined(separator: ", ") + " (scripts/requirements-reference.txt pins opencv-python-headless 5.1.0.95)"))
        }
        return .success(match.version)
    }()

    /// The OpenCV release the reference scripts run, which the OpenCV-compatible mode must then
    /// reproduce. Throws (the test fails, never skips) for a cv2 the tests were not written for.
    static func referenceOpenCV() throws -> OpenCVVersion { try referenceOpenCVResult.get() }

    static func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
