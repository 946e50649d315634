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
