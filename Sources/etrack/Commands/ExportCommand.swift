import ArgumentParser
import ETCore
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

    @Option(name: .customLong("init"), help: "Random initialisation for a name: timm (as a fresh PyTorch model) or probe (He-scaled, every map varied; for numerical checks).")
    var initialization: RandomWeights.Scheme = .timm

    @Flag(help: "Overwrite an existing output file.")
    var force = false

    @Option(help: ArgumentHelp("Also run the native forward pass of the exported weights on DIR/template.f32 (1x3x128x128) and DIR/search.f32 (Kx3x256x256), raw little-endian float32 (for comparison scripts).", valueName: "DIR"))
    var forwardInputs: String?

    @Option(help: ArgumentHelp("Where --forward-inputs writes output1.f32, output2.f32, output3.f32 (K maps each, raw float32).", valueName: "DIR"))
    var forwardOutputs: String?

    func validate() throws {
        if (forwardInputs == nil) != (forwardOutputs == nil) {
            throw ValidationError("--forward-inputs and --forward-outputs go together")
        }
        if !model.hasSuffix(".safetensors") && config != nil {
            throw ValidationError("--config applies to a .safetensors weights file; for a name, pass the name itself")
        }
    }

    func run() throws {
        if FileManager.default.fileExists(atPath: output) && !force {
            throw ExportError("\(output) exists; pass --force to overwrite it")
        }
        let m: Model
        let origin: String
        if model.hasSuffix(".safetensors") {
            m = try ExportWeights.model(contentsOf: model, configuration: config)
            origin = "weights \(model)"
        } else {
            let cfg: ModelConfiguration
            do { cfg = try ModelRegistry.resolve(model) } catch let e as ModelError { throw ExportError(e.description) }
            m = try RandomWeights.model(cfg, seed: seed, scheme: initialization)
            origin = "\(initialization.rawValue) random weights, seed \(seed)"
        }
        let def = ModelExporter.definition(of: m, producerVersion: ETrack.configuration.version)
        try def.write(to: output)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
        print("wrote \(output): \(m.configuration.name) (\(origin)), opset \(ModelExporter.opset), "
              + "\(def.graph.nodes.count) nodes, \(def.graph.initializers.count) initializers, \(bytes) bytes; "
              + "outputs \(ModelExporter.outputs(of: m.configuration).map(\.name).joined(separator: ", "))")
        if let forwardInputs, let forwardOutputs { try forward(m, inputs: forwardInputs, outputs: forwardOutputs) }
    }

    /// The native forward pass on K search crops with one template, outputs as raw float32.
    func forward(_ m: Model, inputs: String, outputs: String) throws {
        let cfg = m.configuration
        guard cfg.head == .center else { throw ExportError("--forward-inputs supports the center head only") }
        func read(_ name: String) throws -> [Float] {
            let path = (inputs).pathAppending(name)
            guard let d = FileManager.default.contents(atPath: path) else { throw ExportError("cannot read \(path)") }
            return d.withUnsafeBytes { raw in
                (0..<d.count / 4).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
            }
        }
        let z = try read("template.f32"), x = try read("search.f32")
        let zc = 3 * cfg.templateSize * cfg.templateSize, xc = 3 * cfg.searchSize * cfg.searchSize
        guard z.count == zc, x.count % xc == 0 else {
            throw ExportError("\(inputs): template.f32 must hold \(zc) floats (has \(z.count)), search.f32 a multiple of \(xc) (has \(x.count))")
        }
        let template = Tensor(shape: [1, 3, cfg.templateSize, cfg.templateSize], data: z)
        var maps: [[Float]] = [[], [], []]
        for k in 0..<x.count / xc {
            let search = Tensor(shape: [1, 3, cfg.searchSize, cfg.searchSize], data: Array(x[k * xc..<(k + 1) * xc]))
            let o = try m.forward(template: template, search: search)
            maps[0] += o.score!.data; maps[1] += o.size!.data; maps[2] += o.offset!.data
        }
        try FileManager.default.createDirectory(atPath: outputs, withIntermediateDirectories: true)
        for (i, v) in maps.enumerated() {
            let path = (outputs).pathAppending("output\(i + 1).f32")
            try v.withUnsafeBytes { try AtomicFile.write(Array($0.bindMemory(to: UInt8.self)), to: path) }
        }
    }
}

extension RandomWeights.Scheme: ExpressibleByArgument {}
