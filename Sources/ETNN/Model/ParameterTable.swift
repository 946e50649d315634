/// What a named tensor is, which decides its default value and whether it counts as a parameter.
public enum ParameterRole: String, Codable, Sendable {
    case weight, bias
    /// BatchNorm γ (default 1) and β (default 0).
    case normWeight, normBias
    /// BatchNorm running statistics: buffers, not trained, not counted (default 0 and 1).
    case runningMean, runningVar
    /// Position tables and the cls token.
    case table
}

/// One named tensor of a model: the single declaration that drives allocation (its slot in the
/// flat parameter buffer), counting and checkpoint names.
public struct ParameterSpec: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var role: ParameterRole
    /// Offset of the first element in the model's flat buffer.
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// Trainable (everything except BN running statistics).
    public var isTrainable: Bool { role != .runningMean && role != .runningVar }
}

/// The ordered list of a configuration's tensors (names in `ModelArchitecture`'s doc comment),
/// laid out back to back in one flat float buffer, llm.c style, so that gradients and optimiser
/// state can share the layout.
public struct ParameterTable: Sendable {
    public let specs: [ParameterSpec]
    /// Floats in the flat buffer.
    public let totalCount: Int
    private let index: [String: Int]

    public init(_ config: ModelConfiguration) {
        var specs: [ParameterSpec] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], _ role: ParameterRole) {
            let s = ParameterSpec(name: name, shape: shape, role: role, offset: offset)
            offset += s.count
            specs.append(s)
        }
        func norm(_ prefix: String, _ ch: Int, running: Bool) {
            add("\(prefix).weight", [ch], .normWeight)
            add("\(prefix).bias", [ch], .normBias)
            if running {
                add("\(prefix).running_mean", [ch], .runningMean)
                add("\(prefix).running_var", [ch], .runningVar)
            }
        }
        for layer in ModelArchitecture.layers(of: config) {
            switch layer.kind {
            case let .convolution(cv):
                add("\(layer.name).weight", cv.weightShape, .weight)
                if cv.bias { add("\(layer.name).bias", [cv.outChannels], .bias) }
                if let bn = cv.batchNorm { norm(bn.name, cv.outChannels, running: true) }
            case let .layerNorm(ch, _):
                norm(layer.name, ch, running: false)
            case let .linear(i, o, _, bias):
                add("\(layer.name).weight", [o, i], .weight)
                if bias { add("\(layer.name).bias", [o], .bias) }
            case .attention:
                break
            case let .table(shape):
                add(layer.name, shape, .table)
            }
        }
        self.specs = specs
        totalCount = offset
        index = Dictionary(uniqueKeysWithValues: specs.enumerated().map { ($1.name, $0) })
    }

    public subscript(name: String) -> ParameterSpec? { index[name].map { specs[$0] } }

    /// Trainable parameters excluding tables (equals the unfolded thop count).
    public var trainableCount: Int {
        specs.filter { $0.isTrainable && $0.role != .table }.reduce(0) { $0 + $1.count }
    }
}
