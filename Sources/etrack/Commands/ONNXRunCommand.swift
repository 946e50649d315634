import ArgumentParser
import ETCore
import ETONNX
import Foundation

/// `etrack onnx`: inspect and run ONNX files with our engine.
struct ONNX: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "onnx", abstract: "Inspect or run an ONNX model with the EfficientTrack engine.",
                                                    subcommands: [ONNXRun.self])
}

/// `etrack onnx run`: raw float32 inputs in, raw float32 outputs out (for cross-checks with other runtimes).
struct ONNXRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on raw little-endian float32 inputs and write each output as <name>.f32.",
        discussion: "Example: etrack onnx run --model backbone.onnx --input input=blob.f32:1x3x255x255 --output-dir out/")

    @Option(help: "The ONNX file.")
    var model: String

    @Option(help: "NAME=FILE.f32:D1xD2x... (repeat for each input).")
    var input: [String] = []

    @Option(help: "Folder for <output>.f32 files and shapes.json.")
    var outputDir: String

    @Option(help: "Threads.")
    var threads: Int = 1

    func run() throws {
        let m = try ONNXModel(path: model)
        var shapes: [String: [Int]] = [:], files: [String: String] = [:]
        for spec in input {
            let parts = spec.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let colon = parts[1].lastIndex(of: ":") else {
                throw ValidationError("--input '\(spec)' is not NAME=FILE.f32:D1xD2x...")
            }
            let dims = parts[1][parts[1].index(after: colon)...].split(separator: "x").compactMap { Int($0) }
            guard !dims.isEmpty, dims.allSatisfy({ $0 > 0 }) else { throw ValidationError("--input '\(spec)': bad shape") }
            shapes[String(parts[0])] = dims
            files[String(parts[0])] = String(parts[1][..<colon])
        }
        let plan = try ExecutionPlan(model: m, inputShapes: shapes, pool: ThreadPool(threads: threads))
        for (name, file) in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            let buffer = plan.inputBuffer(name)
            guard data.count == buffer.count * 4 else {
                throw ValidationError("\(file): \(data.count) bytes, but input '\(name)' of shape \(shapes[name]!) needs \(buffer.count * 4)")
            }
            data.withUnsafeBytes { raw in
                for i in 0..<buffer.count { buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            }
        }
        plan.run()
        try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        var outShapes: [String: [Int]] = [:]
        for name in m.outputNames {
            let b = plan.outputBuffer(name)
            let data = Data(buffer: b)
            try data.write(to: URL(fileURLWithPath: (outputDir as NSString).appendingPathComponent(name.replacingOccurrences(of: "/", with: "_") + ".f32")))
            outShapes[name] = plan.outputShapes[name]
        }
        let json = try JSONSerialization.data(withJSONObject: outShapes, options: [.sortedKeys])
        try json.write(to: URL(fileURLWithPath: (outputDir as NSString).appendingPathComponent("shapes.json")))
        print(outShapes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "\n"))
    }
}
