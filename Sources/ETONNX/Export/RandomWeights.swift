import ETCore
import ETNN
import Foundation

/// Seeded random weights for a configuration, tensor by tensor from the stream of its name
/// (`SeededGenerator(seed:stream:)`), so a tensor's values depend only on (seed, name, shape).
public enum RandomWeights {
    public enum Scheme: String, Sendable, CaseIterable {
        /// What a freshly built PyTorch model holds:
        /// - Linear weights (2-D): timm's `trunc_normal_(std=.02)`, biases 0;
        /// - convolution weights (Conv1d/Conv2d, 3-D/4-D): PyTorch's default
        ///   `kaiming_uniform_(a=√5)`, i.e. U(±1/√fan_in), biases U(±1/√fan_in);
        /// - LayerNorm and BatchNorm γ = 1, β = 0, running mean 0, running variance 1;
        /// - `pos_z`, `pos_x` zero; `pos_embed` the 1-D sin/cos table (cls row zero);
        ///   `cls_token` trunc-normal std .02.
        case timm
        /// For numerical proofs, where every path must carry signal (no flat maps) and the
        /// network must stay well conditioned (no saturated softmax): He-uniform weights
        /// g·U(±√(6/fan_in)) with g = 1/4 for the last layer of each residual branch (block
        /// `proj`, `fc2`) and g = 1/2 for `qkv` (else EfficientTrack's norm-free residual stream
        /// grows ~3× per sub-layer and GA's logits reach 10⁵, where float rounding alone moves
        /// the maps by 1e-3), g = 1 elsewhere; biases U(±0.1), BN/LN γ ∈ 1 ± 0.2, β and running
        /// means U(±0.1), running variances in [0.5, 1.5), tables U(±0.1).
        case probe
    }

    /// The named tensors of `config` (every entry of its `ParameterTable`).
    public static func tensors(for config: ModelConfiguration, seed: UInt64, scheme: Scheme = .timm) -> [String: Tensor] {
        let table = ParameterTable(config)
        // Tensors are independent (one stream per name), so they are drawn in parallel: the
        // inverse-CDF truncated normal costs ~0.2 µs per value (93 M values for d12-c768).
        let specs = table.specs
        let results = UnsafeMutableBufferPointer<[Float]>.allocate(capacity: specs.count)
        results.initialize(repeating: [])
        defer { results.deinitialize(); results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: specs.count) { index in
            let spec = specs[index]
            var gen = SeededGenerator(seed: seed, stream: spec.name)
            var v = [Float](repeating: 0, count: spec.count)
            // The layer's weight (for a bias: its sibling weight) decides the fan-in.
            let prefix = spec.name.hasSuffix(".bias") ? String(spec.name.dropLast(5)) : spec.name
            let weightShape = table["\(prefix).weight"]?.shape ?? spec.shape
            let fanIn = Float(max(1, weightShape.dropFirst().reduce(1, *)))
            let isLinear = weightShape.count == 2
            switch (scheme, spec.role) {
            case (.timm, .weight):
                (isLinear ? ParameterInit.vitDefault : .uniform(low: -1 / fanIn.squareRoot(), high: 1 / fanIn.squareRoot()))
                    .fill(&v, generator: &gen)
            case (.timm, .bias):
                if !isLinear { ParameterInit.uniform(low: -1 / fanIn.squareRoot(), high: 1 / fanIn.squareRoot()).fill(&v, generator: &gen) }
            case (.timm, .normWeight), (.timm, .runningVar): ParameterInit.ones.fill(&v, generator: &gen)
            case (.timm, .normBias), (.timm, .runningMean): break
            case (.timm, .table):
                if spec.name == "cls_token" {
                    ParameterInit.vitDefault.fill(&v, generator: &gen)
                } else if spec.name == "pos_embed" {
                    v = PositionEmbedding.vitTrackTable(patchTokens: config.templateTokens + config.searchTokens, channels: config.channels)
                }
            case (.probe, .weight):
                let inBlock = spec.name.hasPrefix("blocks.")
                let residualOut = inBlock && (spec.name.hasSuffix(".proj.weight") || spec.name.hasSuffix("fc2.weight")
                                              || spec.name.hasSuffix("fc2.conv.weight"))
                let gain: Float = residualOut ? 0.25 : inBlock && spec.name.hasSuffix(".qkv.weight") ? 0.5 : 1
                let bound = gain * (6 / fanIn).squareRoot()
                ParameterInit.uniform(low: -bound, high: bound).fill(&v, generator: &gen)
            case (.probe, .bias), (.probe, .normBias), (.probe, .runningMean), (.probe, .table):
                ParameterInit.uniform(low: -0.1, high: 0.1).fill(&v, generator: &gen)
            case (.probe, .normWeight): ParameterInit.uniform(low: 0.8, high: 1.2).fill(&v, generator: &gen)
            case (.probe, .runningVar): ParameterInit.uniform(low: 0.5, high: 1.5).fill(&v, generator: &gen)
            }
            results[index] = v
        }
        var out: [String: Tensor] = [:]
        for (i, spec) in specs.enumerated() { out[spec.name] = Tensor(shape: spec.shape, data: results[i]) }
        return out
    }

    /// A model of `config` holding seeded random weights.
    /// - Throws: `ModelError.invalidConfiguration`.
    public static func model(_ config: ModelConfiguration, seed: UInt64, scheme: Scheme = .timm) throws -> Model {
        let m = try Model(config)
        try m.load(tensors(for: config, seed: seed, scheme: scheme))
        return m
    }
}
