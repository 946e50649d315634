import ArgumentParser
import ETCore
import ETONNX
import Foundation

/// `etrack onnx`: inspect and run ONNX files with our engine.
struct ONNX: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "onnx", abstract: "Inspect or run an ONNX model with the EfficientTrack engine.",
                                                    subcommands: [ONNXRun.self, ONNXOperators.self])
}

/// `etrack onnx run`: tensors in (.npy, ONNX TensorProto .pb, or raw float32), every output out
/// in its declared type (for cross-checks with other runtimes and the ONNX backend tests).
struct ONNXRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on tensors from .npy / .pb / raw .f32 files and write each output as <name>.npy (or .pb / .f32).",
        discussion: """
        Inputs: NAME=FILE.npy, NAME=FILE.pb (an ONNX TensorProto, as in the ONNX backend tests' input_0.pb), \
        FILE.pb alone (the name comes from the TensorProto), or NAME=FILE.f32:D1xD2x... (raw little-endian float32). \
        Float inputs run as float32; integer and bool inputs (shapes, axes, indices) are bound when the plan is built. \
        Outputs keep the type the graph declares; shapes.json lists each output's shape and type.
        Example: etrack onnx run --model backbone.onnx --input input=blob.npy --output-dir out/
        """)

    @Option(help: "The ONNX file.")
    var model: String

    @Option(help: "NAME=FILE.npy | NAME=FILE.pb | FILE.pb | NAME=FILE.f32:D1xD2x... (repeat for each input).")
    var input: [String] = []

    @Option(help: "Folder for the outputs and shapes.json.")
    var outputDir: String

    @Option(help: "Output file format: npy, pb or f32 (raw float32, float outputs only).")
    var format: String = "npy"

    @Option(help: "Threads.")
    var threads: Int = 1

    func run() throws {
        guard let fmt = TensorFile.Format(rawValue: format) else {
            throw ValidationError("--format '\(format)' is not one of \(TensorFile.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        let m = try ONNXModel(path: model)
        let declared = Dictionary(m.inputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var shapes: [String: [Int]] = [:], floats: [String: [Float]] = [:], values: [String: ONNXTensorValue] = [:]
        for spec in input {
            let (name, tensor) = try Self.load(spec)
            guard let info = declared[name] else {
                throw ValidationError("--input '\(spec)': the model has no input '\(name)' (inputs: \(m.inputNames.joined(separator: ", ")))")
            }
            guard shapes[name] == nil, values[name] == nil else { throw ValidationError("input '\(name)' is given twice") }
            let type = ONNXDataType(rawValue: info.elementType)
            if type?.isInteger ?? false {
                guard tensor.elementType.isInteger, case .int64 = tensor.value.storage else {
                    throw ValidationError("--input '\(spec)': input '\(name)' is \(ONNXDataType.describe(info.elementType)), the file holds \(tensor.elementType)")
                }
                values[name] = tensor.value
            } else {
                guard case let .float32(f) = tensor.value.storage else {
                    throw ValidationError("--input '\(spec)': input '\(name)' is \(ONNXDataType.describe(info.elementType)), the file holds \(tensor.elementType)")
                }
                if tensor.elementType != .float, info.elementType == ONNXDataType.float.rawValue {
                    throw ValidationError("--input '\(spec)': input '\(name)' is float32, the file holds \(tensor.elementType)")
                }
                shapes[name] = tensor.value.dims
                floats[name] = f
            }
        }
        for name in m.inputNames where shapes[name] == nil && values[name] == nil {
            throw ValidationError("no --input for the model's input '\(name)'")
        }
        let plan = try ExecutionPlan(model: m, inputShapes: shapes, inputValues: values, pool: ThreadPool(threads: threads))
        for (name, f) in floats {
            let buffer = plan.inputBuffer(name)
            f.withUnsafeBufferPointer { buffer.baseAddress!.update(from: $0.baseAddress!, count: f.count) }
        }
        plan.run()
        try FileManager.default.createDirectory(atPath: outputDir, withIntermediateDirectories: true)
        var outShapes: [String: Any] = [:]
        var lines: [String] = []
        for o in m.outputs {
            let value = plan.outputValue(o.name)
            var type = ONNXDataType(rawValue: o.elementType) ?? .float
            if o.elementType == 0 { type = value.dataType }
            if type.isInteger, case .float32 = value.storage {
                throw ONNXError("\(model): output '\(o.name)' is declared \(type), but the engine computes it at run time as float32")
            }
            let file = o.name.replacingOccurrences(of: "/", with: "_") + "." + fmt.rawValue
            try TensorFile.write(value, as: type, format: fmt,
                                 to: (outputDir).pathAppending(file))
            outShapes[o.name] = ["shape": value.dims, "type": type.description, "file": file]
            lines.append("\(o.name) \(value.dims) \(type)")
        }
        let json = try JSONSerialization.data(withJSONObject: outShapes, options: [.sortedKeys, .prettyPrinted])
        try json.write(to: URL(fileURLWithPath: (outputDir).pathAppending("shapes.json")), options: .atomic)
        print(lines.joined(separator: "\n"))
    }

    /// One --input spec → (input name, tensor).
    static func load(_ spec: String) throws -> (String, TensorFile.Loaded) {
        let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
        if parts.count == 1 {
            guard spec.lowercased().hasSuffix(".pb") else {
                throw ValidationError("--input '\(spec)' is not NAME=FILE.npy, NAME=FILE.pb, FILE.pb or NAME=FILE.f32:D1xD2x...")
            }
            let t = try TensorFile.read(path: spec)
            guard !t.value.name.isEmpty else { throw ValidationError("--input '\(spec)': the TensorProto has no name; write NAME=\(spec)") }
            return (t.value.name, t)
        }
        let (name, rest) = (parts[0], parts[1])
        if let colon = rest.lastIndex(of: ":"), rest.lowercased().range(of: ".f32:") != nil || rest.lowercased().range(of: ".bin:") != nil {
            let dims = rest[rest.index(after: colon)...].split(separator: "x").map { Int($0) }
            guard !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else { throw ValidationError("--input '\(spec)': bad shape") }
            return (name, try TensorFile.read(path: String(rest[..<colon]), shape: dims.map { $0! }))
        }
        return (name, try TensorFile.read(path: rest))
    }
}

/// `etrack onnx operators`: the ops the engine runs, from the code's own table (docs/onnx/operators.md).
struct ONNXOperators: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operators",
        abstract: "List the ONNX ops the engine runs: versions, attributes, types and what is rejected (Markdown, or --json).")

    @Flag(help: "One JSON object per op (name, versions, attributes, types, notes), and the opset range.")
    var json = false

    func run() throws {
        if json {
            let ops: [[String: Any]] = OperatorCatalog.all.map {
                ["name": $0.name, "versions": $0.versions, "attributes": $0.attributes, "types": $0.types, "notes": $0.notes]
            }
            let doc: [String: Any] = ["oldest_opset": OperatorCatalog.oldestOpset, "newest_opset": OperatorCatalog.newestOpset, "operators": ops]
            print(String(decoding: try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted]), as: UTF8.self))
        } else {
            print(OperatorCatalog.markdown(), terminator: "")
        }
    }
}
