import ArgumentParser
import ETNN
import ETONNX
import Foundation

/// `etrack export NAME|WEIGHTS.safetensors --output model.onnx`: a standard ONNX file (opset 17)
/// with TrackerVit's interface and the etrack metadata (docs/models/export.md).
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a model configuration or weights file to ONNX.",
        discussion: """
        MODEL is a built-in name (see 'etrack models'; overrides after '@', e.g. et-256-fgaf3@depth=5), \
        a configuration JSON file, or a .safetensors checkpoint. A name or JSON gets seeded random weights \
        (--seed; timm-style: trunc-normal .02 for Linear weights, PyTorch's default for convolutions). \
        A checkpoint must fit its configuration exactly: the configuration comes from --config or from the \
        file's __metadata__ (key etrack.config or config). BatchNorms are folded. Inputs: template \
        1x3x128x128, search 1x3x256x256; outputs output1 (score, sigmoid), output2 (size), output3 (offset).
        """)

    @Argument(help: "Model name, configuration JSON, or WEIGHTS.safetensors.")
    var model: String

    @Option(name: .shortAndLong, help: "The ONNX file to write.")
    var output: String

    @Option(help: "Seed of the random weights (for a name or JSON).")
    var seed: UInt64 = 0

    @Option(help: "Configuration of a weights file (name or JSON), when its metadata names none (or to override it).")
    var config: String?

    @Flag(help: "Overwrite an existing output file.")
    var force = false

    func validate() throws {
        if !model.hasSuffix(".safetensors") && config != nil {
            throw ValidationError("--config applies to a .safetensors weights file; for a name, pass the name itself")
        }
    }

    func run() throws {
        if FileManager.default.fileExists(atPath: output) && !force {
            throw ValidationError("\(output) exists; pass --force to overwrite it")
        }
        let m: Model
        let origin: String
        do {
            if model.hasSuffix(".safetensors") {
                m = try ExportWeights.model(contentsOf: model, configuration: config)
                origin = "weights \(model)"
            } else {
                let cfg: ModelConfiguration
                do { cfg = try ModelRegistry.resolve(model) } catch let e as ModelError { throw ExportError(e.description) }
                m = try RandomWeights.model(cfg, seed: seed, scheme: .timm)
                origin = "random weights, seed \(seed)"
            }
        } catch let e as ExportError {
            throw ValidationError(e.message)
        }
        let def = ModelExporter.definition(of: m, producerVersion: ETrack.configuration.version)
        try def.write(to: output)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        print("wrote \(output): \(m.configuration.name) (\(origin)), opset \(ModelExporter.opset), "
              + "\(def.graph.nodes.count) nodes, \(def.graph.initializers.count) initializers, \(bytes) bytes; "
              + "outputs \(ModelExporter.outputs(of: m.configuration).map(\.name).joined(separator: ", "))")
    }
}
