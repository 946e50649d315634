/// Which BatchNorms are folded into the convolution before them when counting.
public enum FoldingPolicy: String, Codable, Sendable, CaseIterable {
    /// Nothing folded (the notes' baseline and VitTrack rows).
    case none
    /// Only Conv+BN units (stem, FFN): what the reference deploy step does, and how the notes
    /// counted EfficientTrack.
    case units
    /// Every BN (our engine's deployed graph).
    case all

    /// The policy the notes used for `family`.
    public static func notes(_ family: ModelFamily) -> FoldingPolicy {
        family == .efficientTrack ? .units : .none
    }
}

/// Parameters and MACs of one stage.
public struct StageCount: Codable, Equatable, Sendable {
    public var stage: String
    /// Weights and biases (thop: every conv, linear, BN and LN weight and bias; no tables).
    public var params: Int
    /// Conv/linear/norm MACs, thop convention.
    public var macs: Int
    /// Q·Kᵀ and A·V MACs (not counted by thop).
    public var attentionMACs: Int
    /// Position tables and cls token.
    public var tableParams: Int
}

/// Parameters and MACs of a configuration, counted as in architecture.md §8 (thop 0.1.1 style):
/// conv MACs = output elements · Cin/groups · k²; linear MACs = Cin · output elements;
/// BN and LN = 4 MACs per element; biases, activations, softmax and the attention matmuls are
/// not counted; params include every conv, linear, BN and LN weight and bias, and exclude the
/// position tables and the cls token.
public struct ModelAccounting: Codable, Equatable, Sendable {
    public var name: String
    public var folding: FoldingPolicy
    /// Tokens through the blocks for this count.
    public var tokens: Int
    public var stages: [StageCount]

    public var params: Int { stages.reduce(0) { $0 + $1.params } }
    public var macs: Int { stages.reduce(0) { $0 + $1.macs } }
    public var attentionMACs: Int { stages.reduce(0) { $0 + $1.attentionMACs } }
    public var tableParams: Int { stages.reduce(0) { $0 + $1.tableParams } }
    public var headParams: Int { stages.filter { $0.stage == "head" }.reduce(0) { $0 + $1.params } }
    public var headMACs: Int { stages.filter { $0.stage == "head" }.reduce(0) { $0 + $1.macs } }

    /// Counts `config`.
    /// - Parameters:
    ///   - folding: which BNs are folded (`FoldingPolicy.notes(config.family)` for the notes).
    ///   - countClassToken: false for the notes' VitTrack convention (N = 320).
    public init(_ config: ModelConfiguration, folding: FoldingPolicy, countClassToken: Bool) {
        name = config.name
        self.folding = folding
        tokens = countClassToken ? config.tokens : config.templateTokens + config.searchTokens
        var order: [String] = []
        var byStage: [String: StageCount] = [:]
        for layer in ModelArchitecture.layers(of: config, countClassToken: countClassToken) {
            if byStage[layer.stage] == nil {
                order.append(layer.stage)
                byStage[layer.stage] = StageCount(stage: layer.stage, params: 0, macs: 0, attentionMACs: 0, tableParams: 0)
            }
            let (p, m, a, t) = Self.count(layer, folding: folding)
            byStage[layer.stage]!.params += p
            byStage[layer.stage]!.macs += m
            byStage[layer.stage]!.attentionMACs += a
            byStage[layer.stage]!.tableParams += t
        }
        stages = order.map { byStage[$0]! }
    }

    /// (params, MACs, attention MACs, table params) of one layer.
    static func count(_ layer: LayerSpec, folding: FoldingPolicy) -> (Int, Int, Int, Int) {
        switch layer.kind {
        case let .convolution(cv):
            let weights = cv.outChannels * (cv.inChannels / cv.groups) * cv.kernel * (cv.oneDimensional ? 1 : cv.kernel)
            var params = weights + (cv.bias ? cv.outChannels : 0)
            var macs = cv.positions * cv.outChannels * (cv.inChannels / cv.groups) * cv.kernel * (cv.oneDimensional ? 1 : cv.kernel)
            if let bn = cv.batchNorm {
                let folded = folding == .all || (folding == .units && bn.role == .unit)
                if folded {
                    if !cv.bias { params += cv.outChannels }
                } else {
                    params += 2 * cv.outChannels
                    macs += 4 * cv.outChannels * cv.positions
                }
            }
            return (params, macs, 0, 0)
        case let .layerNorm(ch, rows):
            return (2 * ch, 4 * ch * rows, 0, 0)
        case let .linear(i, o, rows, bias):
            return (i * o + (bias ? o : 0), i * o * rows, 0, 0)
        case let .attention(h, qk, v, n):
            return (0, 0, h * n * n * (qk + v), 0)
        case let .table(shape):
            return (0, 0, 0, shape.reduce(1, *))
        }
    }
}

/// Every count `etrack info` reports for one configuration.
public struct ModelReport: Codable, Equatable, Sendable {
    public var name: String
    public var configuration: ModelConfiguration
    /// Notes' convention (the figures the notes' tables quote).
    public var params: Int
    public var macs: Int
    /// Notes' convention plus the attention matmuls.
    public var macsWithAttention: Int
    /// Params plus position tables and cls token.
    public var allParams: Int
    /// Head share of the notes' params and MACs (0…1).
    public var headParamShare: Double
    public var headMACShare: Double
    /// Notes' convention, per stage.
    public var notes: ModelAccounting
    /// What our engine runs: every BN folded, cls token included.
    public var deployed: ModelAccounting

    public init(_ config: ModelConfiguration) {
        name = config.name
        configuration = config
        notes = ModelAccounting(config, folding: FoldingPolicy.notes(config.family), countClassToken: false)
        deployed = ModelAccounting(config, folding: .all, countClassToken: true)
        params = notes.params
        macs = notes.macs
        macsWithAttention = notes.macs + notes.attentionMACs
        allParams = notes.params + notes.tableParams
        headParamShare = Double(notes.headParams) / Double(max(1, notes.params))
        headMACShare = Double(notes.headMACs) / Double(max(1, notes.macs))
    }
}
