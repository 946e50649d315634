/// The one description of a network: the walk over a configuration that every consumer reads —
/// the parameter table (allocation, checkpoint names), the accounting, the inference plan, the
/// training network (forward and backward) and the ONNX exporter. Tensor names are interpolated
/// here and nowhere else (naming scheme in `ModelArchitecture`'s doc comment).
///
/// The structure (which layers form a residual sub-layer, which convolutions a head tower chains)
/// is what a flat layer list cannot say, so it is kept: `layers` flattens it in execution order.
public struct NetworkDescription: Sendable {
    /// One stem stage: a convolution (with its BN, if any) and the activation after it.
    public struct StemStage: Sendable {
        public var layer: LayerSpec
        /// Hard-swish between conv stages; nothing after the last stage or the 16×16 patch conv.
        public var hardSwish: Bool
        public var convolution: LayerSpec.Convolution {
            guard case let .convolution(c) = layer.kind else { preconditionFailure("stem stage is a convolution") }
            return c
        }
    }

    /// One residual sub-layer x ← x + f(x), its layers in execution order.
    public struct SubLayer: Sendable {
        public enum Kind: Sendable, Equatable {
            /// [norm] → qkv (Linear C→3C) → attention → proj (Linear C→C): ViT attention and A.
            case attention
            /// qkv (grouped Conv1d, BN-less) → attention → ReLU → proj (Conv1d + separate BN1d).
            case groupedAttention
            /// [norm] → fc1 → activation → fc2. ViT MLP: LayerNorm, Linear layers, GELU.
            /// FFN_r: no norm, Conv1d+BN units, ReLU.
            case feedForward(gelu: Bool)
        }
        public var stage: String
        public var kind: Kind
        /// The LayerNorm before f, when there is one.
        public var norm: LayerSpec?
        /// The remaining layers of f in execution order (attention: qkv, attn, proj; grouped
        /// attention: qkv, attn, proj; feed-forward: fc1, fc2).
        public var layers: [LayerSpec]
    }

    /// One head tower: four Conv3×3 + BN + ReLU, then a Conv1×1 with `outputs` channels.
    public struct HeadTower: Sendable {
        /// `ctr`, `size`, `offset` (center head) or `tl`, `br` (corner head).
        public var name: String
        public var convolutions: [LayerSpec]
        public var final: LayerSpec
        public var outputs: Int
    }

    public let configuration: ModelConfiguration
    /// Tokens the blocks see (N, or N without the cls token for the notes' VitTrack MAC count).
    public let tokens: Int
    public let stem: [StemStage]
    /// `pos_z`, `pos_x` or `cls_token`, `pos_embed`.
    public let tables: [LayerSpec]
    public let subLayers: [SubLayer]
    public let finalNorm: LayerSpec
    public let towers: [HeadTower]

    /// - Parameter countClassToken: whether the blocks see the cls token (true: what the forward
    ///   pass computes; false: the notes' VitTrack MAC convention, N = 320).
    public init(_ config: ModelConfiguration, countClassToken: Bool = true) {
        configuration = config
        let c = config.channels
        func conv(_ stage: String, _ name: String, _ cin: Int, _ cout: Int, k: Int, s: Int = 1, p: Int = 0, g: Int = 1,
                  bias: Bool, oneD: Bool = false, positions: Int, bn: (String, LayerSpec.BatchNormRole)? = nil) -> LayerSpec {
            let spec = LayerSpec.Convolution(inChannels: cin, outChannels: cout, kernel: k, stride: s, padding: p,
                                             groups: g, bias: bias, oneDimensional: oneD, positions: positions,
                                             batchNorm: bn.map { (name: $0.0, role: $0.1) })
            return LayerSpec(stage: stage, name: name, kind: .convolution(spec))
        }

        // Stem: z and x share weights, so positions add up.
        switch config.stem {
        case .linear16:
            stem = [StemStage(layer: conv("stem", "patch_embed.proj", 3, c, k: 16, s: 16, bias: true,
                                          positions: config.templateTokens + config.searchTokens), hardSwish: false)]
        case .conv3x3, .conv2x2:
            var cin = 3, zSide = config.templateSize, xSide = config.searchSize
            var stages: [StemStage] = []
            for (i, w) in config.stemWidths.enumerated() {
                zSide /= 2; xSide /= 2
                let k = config.stem == .conv3x3 ? 3 : 2, p = config.stem == .conv3x3 ? 1 : 0
                stages.append(StemStage(layer: conv("stem", "patch_embed.\(i).conv", cin, w, k: k, s: 2, p: p, bias: false,
                                                    positions: zSide * zSide + xSide * xSide, bn: ("patch_embed.\(i).bn", .unit)),
                                        hardSwish: i < config.stemWidths.count - 1))
                cin = w
            }
            stem = stages
        }

        switch config.tokenLayout {
        case .templateSearch:
            tables = [LayerSpec(stage: "tokens", name: "pos_z", kind: .table(shape: [1, config.templateTokens, c])),
                      LayerSpec(stage: "tokens", name: "pos_x", kind: .table(shape: [1, config.searchTokens, c]))]
        case .clsSearchTemplate:
            tables = [LayerSpec(stage: "tokens", name: "cls_token", kind: .table(shape: [1, 1, c])),
                      LayerSpec(stage: "tokens", name: "pos_embed", kind: .table(shape: [1, config.tokens, c]))]
        }

        // Blocks.
        let n = countClassToken ? config.tokens : config.templateTokens + config.searchTokens
        tokens = n
        var subs: [SubLayer] = []
        for b in 0..<config.depth {
            let stage = "block.\(b)", p = "blocks.\(b)"
            if config.block == .vit {
                let hidden = config.ffnRatio * c
                subs.append(SubLayer(stage: stage, kind: .attention,
                                     norm: LayerSpec(stage: stage, name: "\(p).norm1", kind: .layerNorm(channels: c, rows: n)),
                                     layers: [
                    LayerSpec(stage: stage, name: "\(p).attn.qkv", kind: .linear(inFeatures: c, outFeatures: 3 * c, rows: n, bias: config.qkvBias)),
                    LayerSpec(stage: stage, name: "\(p).attn", kind: .attention(heads: config.heads, qkDim: config.headDim, valueDim: config.headDim, tokens: n)),
                    LayerSpec(stage: stage, name: "\(p).attn.proj", kind: .linear(inFeatures: c, outFeatures: c, rows: n, bias: true)),
                ]))
                subs.append(SubLayer(stage: stage, kind: .feedForward(gelu: true),
                                     norm: LayerSpec(stage: stage, name: "\(p).norm2", kind: .layerNorm(channels: c, rows: n)),
                                     layers: [
                    LayerSpec(stage: stage, name: "\(p).mlp.fc1", kind: .linear(inFeatures: c, outFeatures: hidden, rows: n, bias: true)),
                    LayerSpec(stage: stage, name: "\(p).mlp.fc2", kind: .linear(inFeatures: hidden, outFeatures: c, rows: n, bias: true)),
                ]))
                continue
            }
            for (j, sub) in config.block.subLayers(ffnRatio: config.ffnRatio, sandwichFFNRatio: config.sandwichFFNRatio).enumerated() {
                let q = "\(p).\(j)"
                switch sub {
                case let .ffn(r):
                    subs.append(SubLayer(stage: stage, kind: .feedForward(gelu: false), norm: nil, layers: [
                        conv(stage, "\(q).fc1.conv", c, r * c, k: 1, bias: false, oneD: true, positions: n, bn: ("\(q).fc1.bn", .unit)),
                        conv(stage, "\(q).fc2.conv", r * c, c, k: 1, bias: false, oneD: true, positions: n, bn: ("\(q).fc2.bn", .unit)),
                    ]))
                case .attention:
                    subs.append(SubLayer(stage: stage, kind: .attention,
                                         norm: config.attentionNorm ? LayerSpec(stage: stage, name: "\(q).norm", kind: .layerNorm(channels: c, rows: n)) : nil,
                                         layers: [
                        LayerSpec(stage: stage, name: "\(q).qkv", kind: .linear(inFeatures: c, outFeatures: 3 * c, rows: n, bias: false)),
                        LayerSpec(stage: stage, name: "\(q).attn", kind: .attention(heads: config.heads, qkDim: config.headDim, valueDim: config.headDim, tokens: n)),
                        LayerSpec(stage: stage, name: "\(q).proj", kind: .linear(inFeatures: c, outFeatures: c, rows: n, bias: true)),
                    ]))
                case .groupedAttention:
                    subs.append(SubLayer(stage: stage, kind: .groupedAttention, norm: nil, layers: [
                        conv(stage, "\(q).qkv", c, config.groupedQKVChannels, k: 1, g: config.heads, bias: true, oneD: true, positions: n),
                        LayerSpec(stage: stage, name: "\(q).attn", kind: .attention(heads: config.heads, qkDim: config.groupedKeyDim, valueDim: config.groupedValueDim, tokens: n)),
                        conv(stage, "\(q).proj", config.heads * config.groupedValueDim, c, k: 1, bias: true, oneD: true, positions: n, bn: ("\(q).bn", .separate)),
                    ]))
                }
            }
        }
        subLayers = subs
        finalNorm = LayerSpec(stage: "norm", name: "norm", kind: .layerNorm(channels: c, rows: n))

        // Head.
        let hw = config.searchTokens, w = config.headChannels
        let names: [(String, Int)] = config.head == .center ? [("ctr", 1), ("size", 2), ("offset", 2)] : [("tl", 1), ("br", 1)]
        towers = names.map { t, outputs in
            var cin = c
            var convs: [LayerSpec] = []
            for (l, width) in [w, w / 2, w / 4, w / 8].enumerated() {
                convs.append(conv("head", "box_head.conv\(l + 1)_\(t).0", cin, width, k: 3, p: 1, bias: true, positions: hw,
                                  bn: ("box_head.conv\(l + 1)_\(t).1", .separate)))
                cin = width
            }
            return HeadTower(name: t, convolutions: convs,
                             final: conv("head", "box_head.conv5_\(t)", cin, outputs, k: 1, bias: true, positions: hw),
                             outputs: outputs)
        }
    }

    /// Every layer in execution order.
    public var layers: [LayerSpec] {
        var out = stem.map(\.layer) + tables
        for s in subLayers {
            if let norm = s.norm { out.append(norm) }
            out += s.layers
        }
        out.append(finalNorm)
        for t in towers { out += t.convolutions + [t.final] }
        return out
    }
}

extension LayerSpec {
    /// The convolution of a `.convolution` layer (the description guarantees the kind).
    public var convolution: Convolution {
        guard case let .convolution(c) = kind else { preconditionFailure("\(name) is not a convolution") }
        return c
    }
}
