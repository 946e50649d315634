import ETCore

/// A model ready to run: every BatchNorm folded into the convolution before it (architecture.md
/// §6, also the GA and head BNs), weights packed. Immutable; `forward` may run on several threads
/// at once.
public final class InferencePlan: @unchecked Sendable {
    /// One residual sub-layer as run.
    public enum SubLayer: @unchecked Sendable {
        case attention(MultiHeadSelfAttention)
        case groupedAttention(GroupedAttention)
        case feedForward(FeedForward)
    }

    public let configuration: ModelConfiguration
    public let stem: Stem
    /// [z; x] tables (template-search layout) or the (1+P)-row table (cls layout), N×C.
    public let positions: [Float]
    public let classToken: [Float]?
    /// Sub-layers of all blocks in execution order.
    public let subLayers: [SubLayer]
    public let finalNorm: (weight: [Float], bias: [Float])
    public let centerHead: CenterHead?
    public let cornerHead: CornerHead?

    init(_ model: Model) {
        let cfg = model.configuration
        configuration = cfg
        let c = cfg.channels
        func a(_ n: String) -> [Float] { model.array(n) }
        /// Conv weight and bias with the following BN folded when `bn` is given.
        func folded(_ conv: String, bias: Bool, bn: String?) -> ([Float], [Float]?) {
            let w = a("\(conv).weight"), b = bias ? a("\(conv).bias") : nil
            guard let bn else { return (w, b) }
            let f = BatchNorm.fold(weight: w, bias: b, bnWeight: a("\(bn).weight"), bnBias: a("\(bn).bias"),
                                   runningMean: a("\(bn).running_mean"), runningVar: a("\(bn).running_var"))
            return (f.weight, f.bias)
        }
        func conv2d(_ spec: LayerSpec.Convolution, _ name: String, activation: Activation) -> Conv2D {
            let p = Conv2DParameters(inChannels: spec.inChannels, outChannels: spec.outChannels, kernelH: spec.kernel,
                                     kernelW: spec.kernel, strideH: spec.stride, strideW: spec.stride,
                                     padTop: spec.padding, padLeft: spec.padding, padBottom: spec.padding,
                                     padRight: spec.padding, groups: spec.groups)
            let (w, b) = folded(name, bias: spec.bias, bn: spec.batchNorm?.name)
            return Conv2D(p, weight: w, bias: b, activation: activation)
        }
        func linear(_ name: String, _ i: Int, _ o: Int, bias: Bool, bn: String? = nil) -> Linear {
            let (w, b) = folded(name, bias: bias, bn: bn)
            return Linear(inFeatures: i, outFeatures: o, weight: w, bias: b)
        }
        func ln(_ name: String) -> (weight: [Float], bias: [Float]) { (a("\(name).weight"), a("\(name).bias")) }

        let net = NetworkDescription(cfg)
        stem = Stem(stages: net.stem.map { conv2d($0.convolution, $0.layer.name, activation: $0.hardSwish ? .hardSwish : .identity) })

        // Tokens.
        switch cfg.tokenLayout {
        case .templateSearch:
            positions = a("pos_z") + a("pos_x")
            classToken = nil
        case .clsSearchTemplate:
            positions = a("pos_embed")
            classToken = a("cls_token")
        }

        // Blocks.
        subLayers = net.subLayers.map { sub in
            let norm = sub.norm.map { ln($0.name) }
            switch sub.kind {
            case .attention:
                let qkv = sub.layers[0], proj = sub.layers[2]
                guard case let .linear(_, _, _, qkvBias) = qkv.kind else { preconditionFailure("qkv is linear") }
                return .attention(MultiHeadSelfAttention(
                    channels: c, heads: cfg.heads, norm: norm, qkv: linear(qkv.name, c, 3 * c, bias: qkvBias),
                    proj: linear(proj.name, c, c, bias: true)))
            case let .feedForward(gelu):
                let fc1 = sub.layers[0], fc2 = sub.layers[1]
                if gelu {
                    guard case let .linear(_, hidden, _, _) = fc1.kind else { preconditionFailure("fc1 is linear") }
                    return .feedForward(FeedForward(norm: norm, fc1: linear(fc1.name, c, hidden, bias: true),
                                                    fc2: linear(fc2.name, hidden, c, bias: true), activation: .gelu))
                }
                let hidden = fc1.convolution.outChannels
                return .feedForward(FeedForward(
                    norm: norm, fc1: linear(fc1.name, c, hidden, bias: false, bn: fc1.convolution.batchNorm?.name),
                    fc2: linear(fc2.name, hidden, c, bias: false, bn: fc2.convolution.batchNorm?.name), activation: .relu))
            case .groupedAttention:
                let h = cfg.heads, kd = cfg.groupedKeyDim, vd = cfg.groupedValueDim, hd = 2 * kd + vd, cg = c / h
                let qkvName = sub.layers[0].name, proj = sub.layers[2]
                let w = a("\(qkvName).weight"), bias = a("\(qkvName).bias")
                let qkv = (0..<h).map { g in
                    Linear(inFeatures: cg, outFeatures: hd, weight: Array(w[g * hd * cg..<(g + 1) * hd * cg]),
                           bias: Array(bias[g * hd..<(g + 1) * hd]))
                }
                return .groupedAttention(GroupedAttention(
                    channels: c, heads: h, keyDim: kd, valueDim: vd, qkv: qkv,
                    proj: linear(proj.name, h * vd, c, bias: true, bn: proj.convolution.batchNorm?.name)))
            }
        }
        finalNorm = ln(net.finalNorm.name)

        // Head.
        let towers = net.towers.map { t in
            HeadTower(convs: t.convolutions.map { conv2d($0.convolution, $0.name, activation: .relu) },
                      final: conv2d(t.final.convolution, t.final.name, activation: .identity))
        }
        switch cfg.head {
        case .center:
            centerHead = CenterHead(score: towers[0], size: towers[1], offset: towers[2])
            cornerHead = nil
        case .corner:
            centerHead = nil
            cornerHead = CornerHead(topLeft: towers[0], bottomRight: towers[1], stride: ModelConfiguration.patchSize)
        }
    }

    /// Row of the first template token and of the first search token.
    var templateRow: Int { configuration.tokenLayout == .templateSearch ? 0 : 1 + configuration.searchTokens }
    var searchRow: Int { configuration.tokenLayout == .templateSearch ? configuration.templateTokens : 1 }

    private func checkImage(_ t: Tensor, _ what: String, side: Int) throws {
        let ok = t.shape == [1, 3, side, side] || t.shape == [3, side, side]
        guard ok else { throw ModelError.badInput("\(what) has shape \(t.shape), expected [1, 3, \(side), \(side)]") }
        if let i = t.data.firstIndex(where: { !$0.isFinite }) {
            throw ModelError.badInput("\(what) holds a non-finite value at flat index \(i)")
        }
    }

    /// Runs the network. See `Model.forward`.
    public func forward(template: Tensor, search: Tensor, pool: ThreadPool = .serial) throws -> ModelOutput {
        let cfg = configuration
        try checkImage(template, "template", side: cfg.templateSize)
        try checkImage(search, "search", side: cfg.searchSize)
        let c = cfg.channels, n = cfg.tokens, s = cfg.searchSide, m = s * s
        var scratchCount = max(stem.scratchCount(height: cfg.searchSize, width: cfg.searchSize),
                               stem.scratchCount(height: cfg.templateSize, width: cfg.templateSize))
        for sub in subLayers {
            switch sub {
            case let .attention(x): scratchCount = max(scratchCount, x.scratchCount(tokens: n))
            case let .groupedAttention(x): scratchCount = max(scratchCount, x.scratchCount(tokens: n))
            case let .feedForward(x): scratchCount = max(scratchCount, x.scratchCount(tokens: n))
            }
        }
        let towers = centerHead.map { [$0.score, $0.size, $0.offset] } ?? [cornerHead!.topLeft, cornerHead!.bottomRight]
        scratchCount = max(scratchCount, towers.map { $0.scratchCount(side: s) }.max()!)

        var tokens = [Float](repeating: 0, count: n * c)
        var scratch = [Float](repeating: 0, count: scratchCount)
        var features = [Float](repeating: 0, count: c * m)
        var out = ModelOutput()
        tokens.withUnsafeMutableBufferPointer { tb in
            scratch.withUnsafeMutableBufferPointer { sb in
                let x = tb.baseAddress!, sp = sb.baseAddress!
                template.data.withUnsafeBufferPointer { img in
                    stem.forward(tokens: x + templateRow * c, ld: c, image: img.baseAddress!, height: cfg.templateSize,
                                 width: cfg.templateSize, scratch: sp, pool: pool)
                }
                search.data.withUnsafeBufferPointer { img in
                    stem.forward(tokens: x + searchRow * c, ld: c, image: img.baseAddress!, height: cfg.searchSize,
                                 width: cfg.searchSize, scratch: sp, pool: pool)
                }
                if let cls = classToken { for j in 0..<c { x[j] = cls[j] } }
                // Position tables: [pos_z; pos_x] in the template-search layout, one table otherwise.
                for i in 0..<n * c { x[i] += positions[i] }
                for sub in subLayers {
                    switch sub {
                    case let .attention(l): l.forward(x, tokens: n, scratch: sp, pool: pool)
                    case let .groupedAttention(l): l.forward(x, tokens: n, scratch: sp, pool: pool)
                    case let .feedForward(l): l.forward(x, tokens: n, scratch: sp, pool: pool)
                    }
                }
                finalNorm.weight.withUnsafeBufferPointer { w in
                    finalNorm.bias.withUnsafeBufferPointer { b in
                        LayerNorm.forward(out: x, mean: nil, rstd: nil, inp: x, weight: w.baseAddress!,
                                          bias: b.baseAddress!, rows: n, channels: c)
                    }
                }
                features.withUnsafeMutableBufferPointer { fb in
                    let f = fb.baseAddress!, xs = x + searchRow * c
                    // Search tokens → C×S×S; in corner mode with a cls token, each search feature is
                    // first scaled by its dot product with the cls output (STARK/MixFormer style).
                    for p in 0..<m {
                        var w: Float = 1
                        if cornerHead != nil && classToken != nil {
                            w = 0
                            for j in 0..<c { w += xs[p * c + j] * x[j] }
                        }
                        for j in 0..<c { f[j * m + p] = xs[p * c + j] * w }
                    }
                    out = runHead(features: f, side: s, scratch: sp, pool: pool)
                }
            }
        }
        return out
    }

    private func runHead(features: UnsafePointer<Float>, side s: Int, scratch: UnsafeMutablePointer<Float>,
                         pool: ThreadPool) -> ModelOutput {
        let m = s * s
        var out = ModelOutput()
        if let centerHead {
            var score = [Float](repeating: 0, count: m), size = [Float](repeating: 0, count: 2 * m)
            var offset = [Float](repeating: 0, count: 2 * m)
            score.withUnsafeMutableBufferPointer { a in
                size.withUnsafeMutableBufferPointer { b in
                    offset.withUnsafeMutableBufferPointer { c in
                        centerHead.forward(score: a.baseAddress!, size: b.baseAddress!, offset: c.baseAddress!,
                                           features: features, side: s, scratch: scratch, pool: pool)
                    }
                }
            }
            out.score = Tensor(shape: [1, 1, s, s], data: score)
            out.size = Tensor(shape: [1, 2, s, s], data: size)
            out.offset = Tensor(shape: [1, 2, s, s], data: offset)
        } else if let cornerHead {
            var box = [Float](repeating: 0, count: 4), tl = [Float](repeating: 0, count: m), br = tl
            box.withUnsafeMutableBufferPointer { a in
                tl.withUnsafeMutableBufferPointer { b in
                    br.withUnsafeMutableBufferPointer { c in
                        cornerHead.forward(box: a.baseAddress!, topLeft: b.baseAddress!, bottomRight: c.baseAddress!,
                                           features: features, side: s, scratch: scratch, pool: pool)
                    }
                }
            }
            out.box = Tensor(shape: [1, 4], data: box)
            out.topLeft = Tensor(shape: [1, 1, s, s], data: tl)
            out.bottomRight = Tensor(shape: [1, 1, s, s], data: br)
        }
        return out
    }
}
