import ETImage
import Foundation
import XCTest

/// Runs scripts/reference/image_reference.py on a request and gives access to its outputs.
///
/// Inputs and outputs live in a fresh temporary folder, removed when the runner is released.
final class ReferenceRunner {
    let directory: URL
    private var tasks: [[String: Any]] = []

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("etimage-ref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    static var repositoryRoot: URL {
        // Tests/ETImageTests/ReferenceRunner.swift -> repository root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The Python that runs the OpenCV references: `ETRACK_PYTHON` (scripts/test.sh points it at
    /// each pinned OpenCV in turn), else `python3`.
    static let python = ProcessInfo.processInfo.environment["ETRACK_PYTHON"] ?? "python3"

    /// The OpenCV releases these image-op comparisons were written for and checked against
    /// (opencv-python-headless 5.1.0.95, pinned in scripts/requirements-reference.txt, and the
    /// 5.0.0.93 / 4.14.0.94 environments of scripts/compare/opencv_versions.sh). resize,
    /// copyMakeBorder, mean and the codecs are bit-identical across the three.
    static let writtenFor = ["5.1.0", "5.0.0", "4.14.0"]

    /// The cv2 version the reference Python reports, or why there is none.
    static let openCV: Result<String, ReferenceError> = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", "import cv2, numpy; print(cv2.__version__)"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return .failure(ReferenceError("cannot start \(python): \(error)")) }
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            return .failure(ReferenceError("\(python) cannot import cv2 and numpy: run scripts/setup.sh (installs scripts/requirements-reference.txt)"))
        }
        return .success(text)
    }()

    /// Fails (never skips) unless the reference Python has one of the OpenCV releases the tests were written for.
    static func requireOpenCV() throws {
        let found = try openCV.get()
        guard writtenFor.contains(found) else {
            throw ReferenceError("\(python) has OpenCV \(found), but these comparisons were written for OpenCV \(writtenFor.joined(separator: ", ")) (scripts/requirements-reference.txt pins opencv-python-headless 5.1.0.95)")
        }
    }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func writeRaw(_ bytes: [UInt8], _ name: String) throws { try Data(bytes).write(to: url(name)) }

    func add(_ task: [String: Any]) { tasks.append(task) }

    func run() throws {
        let data = try JSONSerialization.data(withJSONObject: tasks)
        try data.write(to: url("request.json"))
        let script = Self.repositoryRoot.appendingPathComponent("scripts/reference/image_reference.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [Self.python, script, directory.path]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            throw NSError(domain: "ReferenceRunner", code: Int(p.terminationStatus), userInfo: [
                NSLocalizedDescriptionKey: "image_reference.py failed: " + String(decoding: message, as: UTF8.self)])
        }
    }

    func raw(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }

    func floats(_ name: String) throws -> [Float] {
        let d = try Data(contentsOf: url(name))
        return d.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func json(_ name: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(contentsOf: url(name))) }
}

struct ReferenceError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Largest absolute difference and number of differing entries.
func compare(_ a: [UInt8], _ b: [UInt8]) -> (maxDiff: Int, count: Int) {
    guard a.count == b.count else { return (Int.max, max(a.count, b.count)) }
    var m = 0, n = 0
    for i in 0..<a.count where a[i] != b[i] { m = max(m, abs(Int(a[i]) - Int(b[i]))); n += 1 }
    return (m, n)
}

/// A deterministic generator so failures can be replayed from the printed parameters.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A frame of uniform random bytes, so any interpolation error shows.
func randomImage(width: Int, height: Int, channels: Int, rng: inout SplitMix64) -> Image {
    var px = [UInt8](repeating: 0, count: width * height * channels)
    for i in 0..<px.count { px[i] = UInt8.random(in: 0...255, using: &rng) }
    return Image(width: width, height: height, channels: channels, pixels: px)
}
