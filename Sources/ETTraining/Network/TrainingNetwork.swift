import ETCore
import ETNN
import Foundation

/// Zero-initialised buffers that live as long as their owner (activations of one batch size).
final class Arena<T: TrainingScalar> {
    private var blocks: [(MP<T>, Int)] = []
    func alloc(_ count: Int) -> MP<T> {
        let p = MP<T>.allocate(capacity: max(count, 1))
        p.initialize(repeating: 0, count: max(count, 1))
        blocks.append((p, max(count, 1)))
        return p
    }
    /// Zeroes every buffer (the gradient arena before a backward pass).
    func zero() { for (p, n) in blocks { p.update(repeating: 0, count: n) } }
    deinit { for (p, _) in blocks { p.deallocate() } }
}

/// What a forward pass produced, per batch element, in the layouts of `ModelOutput`.
public struct TrainingOutput<T: TrainingScalar> {
    /// Center head: score (B×S×S, clamped sigmoid), size (B×2×S×S, clamped sigmoid), offset (B×2×S×S).
    public var score: [T] = [], size: [T] = [], offset: [T] = []
    /// Corner head: box (B×4: cx, cy, w, h as crop fractions), top-left/bottom-right probabilities (B×S×S).
    public var box: [T] = [], topLeft: [T] = [], bottomRight: [T] = []
    public init() {}
}

/// The gradient of the loss with respect to a `TrainingOutput` (the same fields; empty = zero).
public typealias OutputGradient<T: TrainingScalar> = TrainingOutput<T>

/// A model of the family as a training network at batch B: the layers of `NetworkDescription`
/// bound to offsets in one flat parameter buffer and one flat gradient buffer (llm.c layout, the
/// `ParameterTable` order), every activation of the forward pass kept for the backward pass.
///
/// BatchNorm runs in training mode unless `training` is false (evaluation mode: running
/// statistics, the same function as the deployed model). Template and search go through the stem
/// as two calls, as in the reference code, so each has its own batch statistics.
public final class TrainingNetwork<T: TrainingScalar> {
    public let description: NetworkDescription
    public let table: ParameterTable
    public var configuration: ModelConfiguration { description.configuration }
    /// Parameters and gradients in `table` order. Gradients accumulate; `zeroGradients()` clears.
    public let params: MP<T>, grads: MP<T>
    public var parameterCount: Int { table.totalCount }
    /// BatchNorm mode.
    public var training = true
    /// Whether training-mode BatchNorm updates the running statistics (off in gradient checks).
    public var updateRunningStatistics = true
    public private(set) var batch = 0
    public var pool: ThreadPool = .serial
    /// When non-nil, seconds per layer group accumulate here (`etrack bench train --profile`).
    public var profile: [String: Double]?

    @inline(__always) func timed(_ label: @autoclosure () -> String, _ body: () -> Void) {
        guard profile != nil else { body(); return }
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        profile![label(), default: 0] += Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
    }

    // Layers bound to parameter offsets.
    struct StemStage {
        var conv: ConvolutionLayer, bn: BatchNormLayer?, hardSwish: Bool
    }
    enum SubLayer {
        case attention(norm: LayerNormLayer?, qkv: LinearLayer, attention: AttentionLayer, proj: LinearLayer)
        case groupedAttention(qkv: LinearLayer, attention: AttentionLayer, proj: LinearLayer, bn: BatchNormLayer)
        case feedForward(norm: LayerNormLayer?, fc1: LinearLayer, bn1: BatchNormLayer?, activation: ActivationLayer,
                         fc2: LinearLayer, bn2: BatchNormLayer?)
    }
    struct Tower { var convs: [ConvolutionLayer], bns: [BatchNormLayer], final: ConvolutionLayer }
    let stem: [StemStage]
    let subLayers: [SubLayer]
    let finalNorm: LayerNormLayer
    let towers: [Tower]
    /// Offsets of pos_z/pos_x (or pos_embed) and cls_token.
    let positionTables: [(offset: Int, firstRow: Int, rows: Int)]
    let classToken: Int?

    public init(_ configuration: ModelConfiguration) throws {
        try configuration.validate()
        description = NetworkDescription(configuration)
        table = ParameterTable(configuration)
        params = MP<T>.allocate(capacity: table.totalCount)
        params.initialize(repeating: 0, count: table.totalCount)
        grads = MP<T>.allocate(capacity: table.totalCount)
        grads.initialize(repeating: 0, count: table.totalCount)
        let table = self.table
        func off(_ name: String) -> Int {
            guard let s = table[name] else { preconditionFailure("TrainingNetwork: no tensor \(name)") }
            return s.offset
        }
        func bn(_ cv: LayerSpec.Convolution) -> BatchNormLayer? {
            cv.batchNorm.map { BatchNormLayer(channels: cv.outChannels, weight: off("\($0.name).weight"), bias: off("\($0.name).bias"),
                                              runningMean: off("\($0.name).running_mean"), runningVar: off("\($0.name).running_var")) }
        }
        func conv(_ l: LayerSpec) -> ConvolutionLayer {
            let cv = l.convolution
            return ConvolutionLayer(inChannels: cv.inChannels, outChannels: cv.outChannels, kernel: cv.kernel, stride: cv.stride,
                                    padding: cv.padding, weight: off("\(l.name).weight"), bias: cv.bias ? off("\(l.name).bias") : nil)
        }
        func linear(_ l: LayerSpec) -> LinearLayer {
            switch l.kind {
            case let .linear(i, o, _, bias):
                return LinearLayer(inFeatures: i, outFeatures: o, weight: off("\(l.name).weight"), bias: bias ? off("\(l.name).bias") : nil)
            case let .convolution(cv):
                return LinearLayer(inFeatures: cv.inChannels, outFeatures: cv.outChannels, groups: cv.groups,
                                   weight: off("\(l.name).weight"), bias: cv.bias ? off("\(l.name).bias") : nil)
            default: preconditionFailure("\(l.name) is not a linear layer")
            }
        }
        func ln(_ l: LayerSpec?) -> LayerNormLayer? {
            l.map { LayerNormLayer(channels: configuration.channels, weight: off("\($0.name).weight"), bias: off("\($0.name).bias")) }
        }
        let c = configuration.channels, n = configuration.tokens
        stem = description.stem.map { StemStage(conv: conv($0.layer), bn: bn($0.convolution), hardSwish: $0.hardSwish) }
        subLayers = description.subLayers.map { s in
            switch s.kind {
            case .attention:
                let dh = configuration.headDim
                return .attention(norm: ln(s.norm), qkv: linear(s.layers[0]),
                                  attention: AttentionLayer(heads: configuration.heads, qkDim: dh, valueDim: dh, tokens: n,
                                                            q: 0, k: c, v: 2 * c, ld: 3 * c, headStride: dh),
                                  proj: linear(s.layers[2]))
            case .groupedAttention:
                let kd = configuration.groupedKeyDim, vd = configuration.groupedValueDim
                return .groupedAttention(qkv: linear(s.layers[0]),
                                         attention: AttentionLayer(heads: configuration.heads, qkDim: kd, valueDim: vd, tokens: n,
                                                                   q: 0, k: kd, v: 2 * kd, ld: configuration.groupedQKVChannels,
                                                                   headStride: 2 * kd + vd),
                                         proj: linear(s.layers[2]), bn: bn(s.layers[2].convolution)!)
            case let .feedForward(gelu):
                let bn1 = gelu ? nil : bn(s.layers[0].convolution), bn2 = gelu ? nil : bn(s.layers[1].convolution)
                return .feedForward(norm: ln(s.norm), fc1: linear(s.layers[0]), bn1: bn1, activation: gelu ? .gelu : .relu,
                                    fc2: linear(s.layers[1]), bn2: bn2)
            }
        }
        finalNorm = ln(description.finalNorm)!
        towers = description.towers.map { t in
            Tower(convs: t.convolutions.map(conv), bns: t.convolutions.map { bn($0.convolution)! }, final: conv(t.final))
        }
        switch configuration.tokenLayout {
        case .templateSearch:
            positionTables = [(off("pos_z"), 0, configuration.templateTokens),
                              (off("pos_x"), configuration.templateTokens, configuration.searchTokens)]
            classToken = nil
        case .clsSearchTemplate:
            positionTables = [(off("pos_embed"), 0, n)]
            classToken = off("cls_token")
        }
    }

    deinit {
        params.deallocate()
        grads.deallocate()
    }

    /// Copies a model's flat buffer in (same configuration, `ParameterTable` order).
    public func load(_ values: [Float]) {
        precondition(values.count == table.totalCount, "TrainingNetwork.load: \(values.count) values for \(table.totalCount)")
        for i in 0..<values.count { params[i] = T(values[i]) }
    }

    /// The parameters as a flat Float buffer (what `Model.parameters` and checkpoints hold).
    public func parameters() -> [Float] { (0..<table.totalCount).map { Float(params[$0]) } }

    public func zeroGradients() { grads.update(repeating: 0, count: table.totalCount) }

    // MARK: Activations

    /// Rows of the first template and first search token.
    var templateRow: Int { configuration.tokenLayout == .templateSearch ? 0 : 1 + configuration.searchTokens }
    var searchRow: Int { configuration.tokenLayout == .templateSearch ? configuration.templateTokens : 1 }

    /// Buffers of one stem pass (template or search): per stage conv out, BN out, output.
    struct StemBuffers { var side: [Int] = []; var conv: [MP<T>] = [], bn: [MP<T>] = [], out: [MP<T>] = [] }
    struct SubBuffers {
        var input: MP<T>
        var normed: MP<T>? = nil, mean: MP<T>? = nil, rstd: MP<T>? = nil
        var a: MP<T>, b: MP<T>? = nil, c: MP<T>? = nil, d: MP<T>? = nil, e: MP<T>? = nil, probs: MP<T>? = nil
        var bn1 = BatchNormLayer.Cache<T>(), bn2 = BatchNormLayer.Cache<T>()
    }
    struct TowerBuffers { var conv: [MP<T>], bn: [MP<T>], relu: [MP<T>], out: MP<T>; var caches: [BatchNormLayer.Cache<T>] }

    final class Buffers {
        let values = Arena<T>(), gradients = Arena<T>()
        /// Holds the one-float buffer unused optional slots point at until `prepare` fills them.
        let placeholders = Arena<T>()
        var template: MP<T>, search: MP<T>
        var zStem = StemBuffers(), xStem = StemBuffers()
        var zCaches: [BatchNormLayer.Cache<T>] = [], xCaches: [BatchNormLayer.Cache<T>] = []
        var subs: [SubBuffers] = []
        var stream: MP<T>        // residual stream after the last sub-layer
        var normed: MP<T>, normMean: MP<T>, normRstd: MP<T>
        var clsWeight: MP<T>?    // corner head with a cls token: ⟨x_p, cls⟩ per search token
        var features: MP<T>
        var towers: [TowerBuffers] = []
        var scratch: MP<T>
        // Gradients of the activations (same shapes).
        var dStream: MP<T>, dBranch: MP<T>, dHidden: MP<T>, dHidden2: MP<T>, dQKV: MP<T>, dNormed: MP<T>
        var dFeatures: MP<T>, dTower: [MP<T>], dStem: [MP<T>]
        init() {
            let p = placeholders.alloc(1)
            template = p; search = p; stream = p; normed = p; normMean = p; normRstd = p; features = p; scratch = p
            dStream = p; dBranch = p; dHidden = p; dHidden2 = p; dQKV = p; dNormed = p; dFeatures = p; dTower = []; dStem = []
        }
    }
    var buffers: Buffers?

    func prepare(batch b: Int) -> Buffers {
        if let buffers, batch == b { return buffers }
        let cfg = configuration, c = cfg.channels, n = cfg.tokens, m = cfg.searchTokens
        let bufs = Buffers()
        let v = bufs.values, g = bufs.gradients
        bufs.template = v.alloc(b * 3 * cfg.templateSize * cfg.templateSize)
        bufs.search = v.alloc(b * 3 * cfg.searchSize * cfg.searchSize)
        var scratch = 0, widest = 0
        func stemBuffers(_ side0: Int) -> StemBuffers {
            var s = StemBuffers(), side = side0
            for st in stem {
                scratch = max(scratch, st.conv.scratchCount(side: side))
                s.side.append(side)
                side = st.conv.outputSide(side)
                let count = b * st.conv.outChannels * side * side
                widest = max(widest, count)
                s.conv.append(v.alloc(count))
                s.bn.append(st.bn != nil ? v.alloc(count) : s.conv.last!)
                s.out.append(st.hardSwish ? v.alloc(count) : s.bn.last!)
            }
            return s
        }
        bufs.zStem = stemBuffers(cfg.templateSize)
        bufs.xStem = stemBuffers(cfg.searchSize)
        bufs.zCaches = stem.map { _ in .init() }
        bufs.xCaches = stem.map { _ in .init() }
        bufs.dStem = [g.alloc(widest), g.alloc(widest)]
        var hidden = c, qkvWidth = 3 * c
        for s in subLayers {
            var sb = SubBuffers(input: v.alloc(b * n * c), a: bufs.placeholders.alloc(1))
            switch s {
            case let .attention(norm, _, att, _):
                if norm != nil { sb.normed = v.alloc(b * n * c); sb.mean = v.alloc(b * n); sb.rstd = v.alloc(b * n) }
                sb.a = v.alloc(b * n * 3 * c)                   // qkv
                sb.b = v.alloc(b * n * c)                       // attention output
                sb.probs = v.alloc(att.probabilityCount(batch: b))
                scratch = max(scratch, n * n)
            case let .groupedAttention(qkv, att, _, _):
                qkvWidth = max(qkvWidth, qkv.outFeatures)
                let hv = att.heads * att.valueDim
                hidden = max(hidden, hv)
                sb.a = v.alloc(b * n * qkv.outFeatures)         // qkv
                sb.b = v.alloc(b * n * hv)                      // attention output
                sb.c = v.alloc(b * n * hv)                      // ReLU
                sb.d = v.alloc(b * n * c)                       // proj
                sb.e = v.alloc(b * n * c)                       // BN
                sb.probs = v.alloc(att.probabilityCount(batch: b))
                scratch = max(scratch, n * n)
            case let .feedForward(norm, fc1, bn1, _, _, bn2):
                hidden = max(hidden, fc1.outFeatures)
                if norm != nil { sb.normed = v.alloc(b * n * c); sb.mean = v.alloc(b * n); sb.rstd = v.alloc(b * n) }
                sb.a = v.alloc(b * n * fc1.outFeatures)         // fc1
                sb.b = bn1 != nil ? v.alloc(b * n * fc1.outFeatures) : sb.a  // BN1
                sb.c = v.alloc(b * n * fc1.outFeatures)         // activation
                sb.d = v.alloc(b * n * c)                       // fc2
                sb.e = bn2 != nil ? v.alloc(b * n * c) : sb.d   // BN2
            }
            bufs.subs.append(sb)
        }
        bufs.stream = v.alloc(b * n * c)
        bufs.normed = v.alloc(b * n * c); bufs.normMean = v.alloc(b * n); bufs.normRstd = v.alloc(b * n)
        if cfg.head == .corner && classToken != nil { bufs.clsWeight = v.alloc(b * m) }
        bufs.features = v.alloc(b * c * m)
        var towerWidest = 0
        for t in towers {
            var tb = TowerBuffers(conv: [], bn: [], relu: [], out: v.alloc(b * t.final.outChannels * m), caches: [])
            for cv in t.convs {
                tb.conv.append(v.alloc(b * cv.outChannels * m)); tb.bn.append(v.alloc(b * cv.outChannels * m))
                tb.relu.append(v.alloc(b * cv.outChannels * m)); tb.caches.append(.init())
                towerWidest = max(towerWidest, cv.outChannels, cv.inChannels)
                scratch = max(scratch, cv.scratchCount(side: cfg.searchSide))
            }
            bufs.towers.append(tb)
        }
        bufs.scratch = v.alloc(scratch)
        bufs.dStream = g.alloc(b * n * c); bufs.dBranch = g.alloc(b * n * max(c, hidden))
        bufs.dHidden = g.alloc(b * n * hidden); bufs.dHidden2 = g.alloc(b * n * hidden)
        bufs.dQKV = g.alloc(b * n * qkvWidth); bufs.dNormed = g.alloc(b * n * c)
        bufs.dFeatures = g.alloc(b * c * m)
        bufs.dTower = [g.alloc(b * towerWidest * m), g.alloc(b * towerWidest * m)]
        buffers = bufs
        batch = b
        return bufs
    }

    // MARK: Forward

    /// Runs the network on `batch` template (B×3×Ht×Wt) and search (B×3×Hs×Ws) images, keeping
    /// every activation for `backward`.
    public func forward(template: [T], search: [T], batch b: Int) -> TrainingOutput<T> {
        let cfg = configuration
        precondition(template.count == b * 3 * cfg.templateSize * cfg.templateSize
                     && search.count == b * 3 * cfg.searchSize * cfg.searchSize, "TrainingNetwork.forward: image sizes")
        let bufs = prepare(batch: b)
        template.withUnsafeBufferPointer { bufs.template.update(from: $0.baseAddress!, count: $0.count) }
        search.withUnsafeBufferPointer { bufs.search.update(from: $0.baseAddress!, count: $0.count) }
        let c = cfg.channels, n = cfg.tokens, m = cfg.searchTokens, rows = b * n
        let stream0 = bufs.subs.first?.input ?? bufs.stream

        // Stem (template and search separately) → token rows.
        func runStem(_ image: MP<T>, _ sb: StemBuffers, _ caches: inout [BatchNormLayer.Cache<T>]) {
            var src = CP(image)
            for (i, st) in stem.enumerated() {
                let side = sb.side[i], o = st.conv.outputSide(side), count = b * st.conv.outChannels * o * o
                st.conv.forward(out: sb.conv[i], inp: src, params: params, batch: b, side: side, scratch: bufs.scratch, pool: pool)
                if let bn = st.bn {
                    bn.forward(out: sb.bn[i], inp: sb.conv[i], params: params, outer: b, inner: o * o, training: training,
                               updateRunningStatistics: updateRunningStatistics, cache: &caches[i])
                }
                if st.hardSwish { ActivationLayer.hardSwish.forward(out: sb.out[i], inp: sb.bn[i], count: count) }
                src = CP(sb.out[i])
            }
        }
        timed("forward stem (template)") { runStem(bufs.template, bufs.zStem, &bufs.zCaches) }
        timed("forward stem (search)") { runStem(bufs.search, bufs.xStem, &bufs.xCaches) }
        func scatter(_ sb: StemBuffers, row0: Int, count p: Int) {
            let src = sb.out.last!
            for bi in 0..<b {
                for ch in 0..<c {
                    let s = src + (bi * c + ch) * p
                    for i in 0..<p { stream0[(bi * n + row0 + i) * c + ch] = s[i] }
                }
            }
        }
        scatter(bufs.zStem, row0: templateRow, count: cfg.templateTokens)
        scatter(bufs.xStem, row0: searchRow, count: cfg.searchTokens)
        for bi in 0..<b {
            let x = stream0 + bi * n * c
            if let cls = classToken { for j in 0..<c { x[j] = params[cls + j] } }
            for t in positionTables {
                for i in 0..<t.rows * c { x[t.firstRow * c + i] += params[t.offset + i] }
            }
        }

        // Residual sub-layers: input of sub-layer i+1 = input_i + f_i(input_i).
        for (i, sub) in subLayers.enumerated() {
            let sb = bufs.subs[i]
            let next = i + 1 < subLayers.count ? bufs.subs[i + 1].input : bufs.stream
            let x = CP(sb.input)
            var branch = x
            timed("forward \(Self.label(sub))") {
            switch sub {
            case let .attention(norm, qkv, att, proj):
                var src = x
                if let norm { norm.forward(out: sb.normed!, mean: sb.mean!, rstd: sb.rstd!, inp: x, params: params, rows: rows); src = CP(sb.normed!) }
                qkv.forward(out: sb.a, inp: src, params: params, rows: rows, pool: pool)
                att.forward(out: sb.b!, probs: sb.probs!, qkv: sb.a, batch: b, pool: pool)
                proj.forward(out: next, inp: sb.b!, params: params, rows: rows, pool: pool)
                branch = CP(next)
            case let .groupedAttention(qkv, att, proj, bn):
                qkv.forward(out: sb.a, inp: x, params: params, rows: rows, pool: pool)
                att.forward(out: sb.b!, probs: sb.probs!, qkv: sb.a, batch: b, pool: pool)
                ActivationLayer.relu.forward(out: sb.c!, inp: sb.b!, count: rows * att.heads * att.valueDim)
                proj.forward(out: sb.d!, inp: sb.c!, params: params, rows: rows, pool: pool)
                bn.forward(out: sb.e!, inp: sb.d!, params: params, outer: rows, inner: 1, training: training,
                           updateRunningStatistics: updateRunningStatistics, cache: &bufs.subs[i].bn1)
                branch = CP(sb.e!)
            case let .feedForward(norm, fc1, bn1, act, fc2, bn2):
                var src = x
                if let norm { norm.forward(out: sb.normed!, mean: sb.mean!, rstd: sb.rstd!, inp: x, params: params, rows: rows); src = CP(sb.normed!) }
                fc1.forward(out: sb.a, inp: src, params: params, rows: rows, pool: pool)
                if let bn1 {
                    bn1.forward(out: sb.b!, inp: sb.a, params: params, outer: rows, inner: 1, training: training,
                                updateRunningStatistics: updateRunningStatistics, cache: &bufs.subs[i].bn1)
                }
                act.forward(out: sb.c!, inp: sb.b!, count: rows * fc1.outFeatures)
                fc2.forward(out: sb.d!, inp: sb.c!, params: params, rows: rows, pool: pool)
                if let bn2 {
                    bn2.forward(out: sb.e!, inp: sb.d!, params: params, outer: rows, inner: 1, training: training,
                                updateRunningStatistics: updateRunningStatistics, cache: &bufs.subs[i].bn2)
                }
                branch = CP(sb.e!)
            }
            }
            if branch == CP(next) {
                for j in 0..<rows * c { next[j] += x[j] }
            } else {
                for j in 0..<rows * c { next[j] = x[j] + branch[j] }
            }
        }

        // Final LayerNorm, search tokens → C×S×S features (scaled by ⟨x_p, cls⟩ in corner mode with a cls token).
        finalNorm.forward(out: bufs.normed, mean: bufs.normMean, rstd: bufs.normRstd, inp: bufs.stream, params: params, rows: rows)
        for bi in 0..<b {
            let xn = bufs.normed + bi * n * c, xs = xn + searchRow * c, f = bufs.features + bi * c * m
            for p in 0..<m {
                var w: T = 1
                if let cw = bufs.clsWeight {
                    w = 0
                    for j in 0..<c { w += xs[p * c + j] * xn[j] }
                    cw[bi * m + p] = w
                }
                for j in 0..<c { f[j * m + p] = xs[p * c + j] * w }
            }
        }

        // Head towers.
        let side = cfg.searchSide
        for (ti, t) in towers.enumerated() {
            let tb = bufs.towers[ti]
            timed("forward head towers") {
            var src = CP(bufs.features)
            for (l, cv) in t.convs.enumerated() {
                cv.forward(out: tb.conv[l], inp: src, params: params, batch: b, side: side, scratch: bufs.scratch, pool: pool)
                t.bns[l].forward(out: tb.bn[l], inp: tb.conv[l], params: params, outer: b, inner: m, training: training,
                                 updateRunningStatistics: updateRunningStatistics, cache: &bufs.towers[ti].caches[l])
                ActivationLayer.relu.forward(out: tb.relu[l], inp: tb.bn[l], count: b * cv.outChannels * m)
                src = CP(tb.relu[l])
            }
            t.final.forward(out: tb.out, inp: src, params: params, batch: b, side: side, scratch: bufs.scratch, pool: pool)
            }
        }
        return headOutput(bufs, batch: b)
    }

    static func clampedSigmoid(_ x: T) -> T { min(max(1 / (1 + T.exp(-x)), T(1e-4)), 1 - T(1e-4)) }

    func headOutput(_ bufs: Buffers, batch b: Int) -> TrainingOutput<T> {
        let m = configuration.searchTokens, side = configuration.searchSide
        var out = TrainingOutput<T>()
        if configuration.head == .center {
            out.score = (0..<b * m).map { Self.clampedSigmoid(bufs.towers[0].out[$0]) }
            out.size = (0..<b * 2 * m).map { Self.clampedSigmoid(bufs.towers[1].out[$0]) }
            out.offset = Array(UnsafeBufferPointer(start: bufs.towers[2].out, count: b * 2 * m))
        } else {
            let stride = T(ModelConfiguration.patchSize), size = T(configuration.searchSize)
            out.topLeft = Self.softmaxRows(bufs.towers[0].out, rows: b, cols: m)
            out.bottomRight = Self.softmaxRows(bufs.towers[1].out, rows: b, cols: m)
            for bi in 0..<b {
                var x1: T = 0, y1: T = 0, x2: T = 0, y2: T = 0
                for iy in 0..<side {
                    for ix in 0..<side {
                        let pt = out.topLeft[bi * m + iy * side + ix], pb = out.bottomRight[bi * m + iy * side + ix]
                        x1 += pt * T(ix) * stride; y1 += pt * T(iy) * stride
                        x2 += pb * (T(ix) * stride + stride - 1); y2 += pb * (T(iy) * stride + stride - 1)
                    }
                }
                out.box += [(x1 + x2) / 2 / size, (y1 + y2) / 2 / size, (x2 - x1) / size, (y2 - y1) / size]
            }
        }
        return out
    }

    static func softmaxRows(_ x: CP<T>, rows: Int, cols: Int) -> [T] {
        var out = [T](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            var mx = -T.infinity
            for j in 0..<cols { mx = max(mx, x[r * cols + j]) }
            var s: T = 0
            for j in 0..<cols { let e = T.exp(x[r * cols + j] - mx); out[r * cols + j] = e; s += e }
            for j in 0..<cols { out[r * cols + j] /= s }
        }
        return out
    }

    // MARK: Backward

    /// Accumulates ∂L/∂params into `grads` from ∂L/∂outputs of the last `forward` (`output` is
    /// what that forward returned).
    public func backward(_ dOut: OutputGradient<T>, output: TrainingOutput<T>) {
        guard let bufs = buffers else { preconditionFailure("TrainingNetwork.backward before forward") }
        let cfg = configuration, b = batch, c = cfg.channels, n = cfg.tokens, m = cfg.searchTokens, rows = b * n
        let side = cfg.searchSide
        bufs.gradients.zero()

        // Head outputs → gradients of the towers' final maps.
        var dMaps: [[T]] = []
        if cfg.head == .center {
            func dSigmoid(_ d: [T], _ logits: MP<T>, count: Int) -> [T] {
                (0..<count).map { i in
                    guard !d.isEmpty else { return 0 }
                    let s = 1 / (1 + T.exp(-logits[i]))
                    // Clamp passes no gradient where it is active (PyTorch's clamp).
                    return s > T(1e-4) && s < 1 - T(1e-4) ? d[i] * s * (1 - s) : 0
                }
            }
            dMaps = [dSigmoid(dOut.score, bufs.towers[0].out, count: b * m),
                     dSigmoid(dOut.size, bufs.towers[1].out, count: b * 2 * m),
                     dOut.offset.isEmpty ? [T](repeating: 0, count: b * 2 * m) : dOut.offset]
        } else {
            let stride = T(ModelConfiguration.patchSize), size = T(cfg.searchSize)
            var dTL = [T](repeating: 0, count: b * m), dBR = dTL
            for bi in 0..<b where !dOut.box.isEmpty {
                let g = Array(dOut.box[bi * 4..<bi * 4 + 4])
                // box = ((x1+x2)/2, (y1+y2)/2, x2−x1, y2−y1)/size
                let dx1 = (g[0] / 2 - g[2]) / size, dx2 = (g[0] / 2 + g[2]) / size
                let dy1 = (g[1] / 2 - g[3]) / size, dy2 = (g[1] / 2 + g[3]) / size
                // Through the soft-argmax (linear in p), then the softmax.
                for (which, dx, dy, shift) in [(0, dx1, dy1, T(0)), (1, dx2, dy2, stride - 1)] {
                    let p = which == 0 ? output.topLeft : output.bottomRight
                    var dp = [T](repeating: 0, count: m), dot: T = 0
                    for iy in 0..<side {
                        for ix in 0..<side {
                            let k = iy * side + ix
                            dp[k] = dx * (T(ix) * stride + shift) + dy * (T(iy) * stride + shift)
                            dot += dp[k] * p[bi * m + k]
                        }
                    }
                    for k in 0..<m {
                        let v = p[bi * m + k] * (dp[k] - dot)
                        if which == 0 { dTL[bi * m + k] = v } else { dBR[bi * m + k] = v }
                    }
                }
            }
            dMaps = [dTL, dBR]
        }

        // Towers, each adding into dFeatures.
        for (ti, t) in towers.enumerated() {
            let tb = bufs.towers[ti]
            timed("backward head towers") {
            let dA = bufs.dTower[0], dB = bufs.dTower[1]
            var cur = dA
            dMaps[ti].withUnsafeBufferPointer { d in
                let count = b * t.final.outChannels * m
                cur.update(from: d.baseAddress!, count: count)
            }
            var dIn = dB
            var inputs = [CP(bufs.features)] + tb.relu.map { CP($0) }
            // final conv
            let lastIn = inputs.removeLast()
            dIn.update(repeating: 0, count: b * t.final.inChannels * m)
            t.final.backward(dInp: dIn, dOut: cur, inp: lastIn, params: params, grads: grads, batch: b, side: side,
                             scratch: bufs.scratch, pool: pool)
            swap(&cur, &dIn)
            for l in stride(from: t.convs.count - 1, through: 0, by: -1) {
                let cv = t.convs[l], count = b * cv.outChannels * m
                // relu then BN, in place through dIn as the temporary
                dIn.update(repeating: 0, count: count)
                ActivationLayer.relu.backward(dInp: dIn, dOut: cur, inp: tb.bn[l], count: count)
                cur.update(repeating: 0, count: count)
                t.bns[l].backward(dInp: cur, dOut: dIn, inp: tb.conv[l], params: params, grads: grads, outer: b, inner: m,
                                  cache: tb.caches[l])
                let target = l == 0 ? bufs.dFeatures : dIn
                if l > 0 { dIn.update(repeating: 0, count: b * cv.inChannels * m) }
                cv.backward(dInp: target, dOut: cur, inp: l == 0 ? CP(bufs.features) : CP(tb.relu[l - 1]), params: params,
                            grads: grads, batch: b, side: side, scratch: bufs.scratch, pool: pool)
                if l > 0 { swap(&cur, &dIn) }
            }
            }
        }

        // Features → normed tokens (and the cls row in corner mode).
        for bi in 0..<b {
            let xn = bufs.normed + bi * n * c, xs = xn + searchRow * c, f = bufs.dFeatures + bi * c * m
            let dn = bufs.dNormed + bi * n * c, ds = dn + searchRow * c
            for p in 0..<m {
                if let cw = bufs.clsWeight {
                    let w = cw[bi * m + p]
                    var dw: T = 0
                    for j in 0..<c { dw += f[j * m + p] * xs[p * c + j] }
                    for j in 0..<c {
                        ds[p * c + j] += f[j * m + p] * w + dw * xn[j]
                        dn[j] += dw * xs[p * c + j]
                    }
                } else {
                    for j in 0..<c { ds[p * c + j] += f[j * m + p] }
                }
            }
        }
        finalNorm.backward(dInp: bufs.dStream, dOut: bufs.dNormed, inp: bufs.stream, mean: bufs.normMean, rstd: bufs.normRstd,
                           params: params, grads: grads, rows: rows)

        // Residual sub-layers in reverse: dStream holds ∂L/∂(output of sub-layer i); the branch's
        // gradient w.r.t. its input is added into it.
        for i in stride(from: subLayers.count - 1, through: 0, by: -1) {
            let sb = bufs.subs[i], x = CP(sb.input), dx = bufs.dStream
            timed("backward \(Self.label(subLayers[i]))") {
            switch subLayers[i] {
            case let .attention(norm, qkv, att, proj):
                let dAtt = bufs.dHidden, dq = bufs.dQKV
                dAtt.update(repeating: 0, count: rows * c)
                proj.backward(dInp: dAtt, dOut: dx, inp: sb.b!, params: params, grads: grads, rows: rows, pool: pool)
                dq.update(repeating: 0, count: rows * 3 * c)
                att.backward(dQKV: dq, dOut: dAtt, qkv: sb.a, probs: sb.probs!, batch: b, scratch: bufs.scratch, pool: pool)
                if let norm {
                    let dn = bufs.dNormed
                    dn.update(repeating: 0, count: rows * c)
                    qkv.backward(dInp: dn, dOut: dq, inp: sb.normed!, params: params, grads: grads, rows: rows, pool: pool)
                    norm.backward(dInp: dx, dOut: dn, inp: x, mean: sb.mean!, rstd: sb.rstd!, params: params, grads: grads, rows: rows)
                } else {
                    qkv.backward(dInp: dx, dOut: dq, inp: x, params: params, grads: grads, rows: rows, pool: pool)
                }
            case let .groupedAttention(qkv, att, proj, bn):
                let hv = att.heads * att.valueDim
                let dProj = bufs.dBranch, dRelu = bufs.dHidden, dAtt = bufs.dHidden2, dq = bufs.dQKV
                dProj.update(repeating: 0, count: rows * c)
                bn.backward(dInp: dProj, dOut: dx, inp: sb.d!, params: params, grads: grads, outer: rows, inner: 1, cache: sb.bn1)
                dRelu.update(repeating: 0, count: rows * hv)
                proj.backward(dInp: dRelu, dOut: dProj, inp: sb.c!, params: params, grads: grads, rows: rows, pool: pool)
                dAtt.update(repeating: 0, count: rows * hv)
                ActivationLayer.relu.backward(dInp: dAtt, dOut: dRelu, inp: sb.b!, count: rows * hv)
                dq.update(repeating: 0, count: rows * qkv.outFeatures)
                att.backward(dQKV: dq, dOut: dAtt, qkv: sb.a, probs: sb.probs!, batch: b, scratch: bufs.scratch, pool: pool)
                qkv.backward(dInp: dx, dOut: dq, inp: x, params: params, grads: grads, rows: rows, pool: pool)
            case let .feedForward(norm, fc1, bn1, act, fc2, bn2):
                let h = fc1.outFeatures
                var dFc2 = CP(dx)
                if let bn2 {
                    bufs.dBranch.update(repeating: 0, count: rows * c)
                    bn2.backward(dInp: bufs.dBranch, dOut: dx, inp: sb.d!, params: params, grads: grads, outer: rows, inner: 1, cache: sb.bn2)
                    dFc2 = CP(bufs.dBranch)
                }
                let dAct = bufs.dHidden, dPre = bufs.dHidden2
                dAct.update(repeating: 0, count: rows * h)
                fc2.backward(dInp: dAct, dOut: dFc2, inp: sb.c!, params: params, grads: grads, rows: rows, pool: pool)
                dPre.update(repeating: 0, count: rows * h)
                act.backward(dInp: dPre, dOut: dAct, inp: sb.b!, count: rows * h)
                var dFc1 = CP(dPre)
                if let bn1 {
                    dAct.update(repeating: 0, count: rows * h)
                    bn1.backward(dInp: dAct, dOut: dPre, inp: sb.a, params: params, grads: grads, outer: rows, inner: 1, cache: sb.bn1)
                    dFc1 = CP(dAct)
                }
                if let norm {
                    let dn = bufs.dNormed
                    dn.update(repeating: 0, count: rows * c)
                    fc1.backward(dInp: dn, dOut: dFc1, inp: sb.normed!, params: params, grads: grads, rows: rows, pool: pool)
                    norm.backward(dInp: dx, dOut: dn, inp: x, mean: sb.mean!, rstd: sb.rstd!, params: params, grads: grads, rows: rows)
                } else {
                    fc1.backward(dInp: dx, dOut: dFc1, inp: x, params: params, grads: grads, rows: rows, pool: pool)
                }
            }
            }
        }

        // Tokens: cls and position tables, then the stem.
        let dx = bufs.dStream
        for bi in 0..<b {
            let d = dx + bi * n * c
            for t in positionTables {
                for i in 0..<t.rows * c { grads[t.offset + i] += d[t.firstRow * c + i] }
            }
            // Row 0 is the cls token itself (the stem writes other rows).
            if let cls = classToken { for j in 0..<c { grads[cls + j] += d[j] } }
        }
        func stemBackward(_ image: MP<T>, _ sb: StemBuffers, _ caches: [BatchNormLayer.Cache<T>], row0: Int, count p: Int) {
            var cur = bufs.dStem[0], tmp = bufs.dStem[1]
            let last = stem.count - 1
            cur.update(repeating: 0, count: b * c * p)
            for bi in 0..<b {
                for ch in 0..<c {
                    let s = cur + (bi * c + ch) * p
                    for i in 0..<p { s[i] = dx[(bi * n + row0 + i) * c + ch] }
                }
            }
            for i in stride(from: last, through: 0, by: -1) {
                let st = stem[i], side = sb.side[i], o = st.conv.outputSide(side), count = b * st.conv.outChannels * o * o
                if st.hardSwish {
                    tmp.update(repeating: 0, count: count)
                    ActivationLayer.hardSwish.backward(dInp: tmp, dOut: cur, inp: sb.bn[i], count: count)
                    swap(&cur, &tmp)
                }
                if let bn = st.bn {
                    tmp.update(repeating: 0, count: count)
                    bn.backward(dInp: tmp, dOut: cur, inp: sb.conv[i], params: params, grads: grads, outer: b, inner: o * o, cache: caches[i])
                    swap(&cur, &tmp)
                }
                let input = i == 0 ? CP(image) : CP(sb.out[i - 1])
                if i > 0 { tmp.update(repeating: 0, count: b * st.conv.inChannels * side * side) }
                st.conv.backward(dInp: i == 0 ? nil : tmp, dOut: cur, inp: input, params: params, grads: grads, batch: b,
                                 side: side, scratch: bufs.scratch, pool: pool)
                swap(&cur, &tmp)
            }
        }
        timed("backward stem (template)") { stemBackward(bufs.template, bufs.zStem, bufs.zCaches, row0: templateRow, count: cfg.templateTokens) }
        timed("backward stem (search)") { stemBackward(bufs.search, bufs.xStem, bufs.xCaches, row0: searchRow, count: cfg.searchTokens) }
    }

    static func label(_ s: SubLayer) -> String {
        switch s {
        case .attention: return "attention sub-layers"
        case .groupedAttention: return "grouped-attention sub-layers"
        case .feedForward: return "feed-forward sub-layers"
        }
    }
}
