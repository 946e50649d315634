import Foundation
import XCTest

/// Paths and helpers shared by the ONNX tests.
enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shared = repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
    static let models = shared.appendingPathComponent("models")

    static func model(_ version: String, _ file: String) -> String {
        models.appendingPathComponent(version).appendingPathComponent(file).path
    }

    /// Runs a command, returning its exit status and combined output.
    @discardableResult
    static func run(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func readFloats(_ path: String) throws -> [Float] {
        let d = try Data(contentsOf: URL(fileURLWithPath: path))
        return d.withUnsafeBytes { raw in (0..<(d.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
    }

    /// Reference cases from scripts/reference/onnx_cases.py (ONNX Runtime), generated once per test run.
    static let onnxCases: Result<[ReferenceCase], Error> = manifest.map { json in
        (json["cases"] as! [[String: Any]]).map(ReferenceCase.init)
    }

    /// Paths of models the engine must reject, by case name.
    static let badModels: Result<[String: String], Error> = manifest.map { $0["bad"] as! [String: String] }

    private static let manifest: Result<[String: Any], Error> = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("etrack-onnx-cases-\(getpid())").path
        do {
            let script = repoRoot.appendingPathComponent("scripts/reference/onnx_cases.py").path
            let (status, out) = try run(["python3", script, dir, "--models", models.path])
            guard status == 0 else { throw NSError(domain: "onnx_cases.py failed: \(out)", code: Int(status)) }
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json"))) as! [String: Any]
            return .success(json)
        } catch {
            return .failure(error)
        }
    }()
}

struct ReferenceCase {
    struct IO { var name: String; var shape: [Int]; var file: String }
    var name: String
    var model: String
    var inputs: [IO]
    var outputs: [IO]

    init(_ d: [String: Any]) {
        func io(_ a: Any?) -> [IO] {
            (a as! [[String: Any]]).map { IO(name: $0["name"] as! String, shape: ($0["shape"] as! [NSNumber]).map(\.intValue), file: $0["file"] as! String) }
        }
        name = d["name"] as! String
        model = d["model"] as! String
        inputs = io(d["inputs"])
        outputs = io(d["outputs"])
    }
}
