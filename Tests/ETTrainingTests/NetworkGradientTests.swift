import ETCore
import ETNN
import ETONNX
import ETTestSupport
import ETTraining
import XCTest

/// Small configurations covering every stem, block, token layout and head of the family.
func tinyConfigurations() -> [ModelConfiguration] {
    func tiny(_ name: String, _ block: BlockKind, stem: StemKind = .conv3x3, layout: TokenLayout = .templateSearch,
              head: HeadKind = .center, attentionNorm: Bool = true) -> ModelConfiguration {
        ModelConfiguration(name: name, family: block == .vit ? .vitTrack : .efficientTrack, stem: stem, channels: 16, heads: 2,
                           depth: 1, block: block, groupedKeyDim: 4, attentionNorm: attentionNorm, tokenLayout: layout, head: head,
                           headChannels: 16, templateSize: 32, searchSize: 64)
    }
    return [
        tiny("tiny-vit-cls-corner", .vit, stem: .conv2x2, layout: .clsSearchTemplate, head: .corner),
        tiny("tiny-vit-linear16", .vit, stem: .linear16),
        tiny("tiny-af", .af),
        tiny("tiny-faf-nonorm", .faf, attentionNorm: false),
        tiny("tiny-gaf", .gaf, stem: .conv2x2),
        tiny("tiny-fgaf-corner", .fgaf, head: .corner),
    ]
}

/// Random weights of a plausible scale: weights ±0.3, BN/LN γ near 1, running variance in [0.5, 1.5).
func randomParameters(_ table: ParameterTable, seed: UInt64) -> [Double] {
    var p = seededValues(table.totalCount, seed: seed, scale: 0.3)
    for s in table.specs {
        for i in s.offset..<s.offset + s.count {
            switch s.role {
            case .normWeight: p[i] += 1
            case .runningVar: p[i] = abs(p[i]) * 3 + 0.5
            default: break
            }
        }
    }
    return p
}

final class NetworkGradientTests: XCTestCase {
    /// Whole small models of every block type: ∂L/∂θ of L = Σ r ⊙ outputs against float64
    /// central differences, two probes in every tensor, BatchNorm in training mode.
    func testWholeModelGradients() throws {
        var worstOverall = 0.0
        for cfg in tinyConfigurations() {
            let net = try TrainingNetwork<Double>(cfg)
            net.updateRunningStatistics = false
            let p = randomParameters(net.table, seed: 7)
            for i in 0..<p.count { net.params[i] = p[i] }
            let b = 2
            let z = seededValues(b * 3 * cfg.templateSize * cfg.templateSize, seed: 8)
            let x = seededValues(b * 3 * cfg.searchSize * cfg.searchSize, seed: 9)
            func flat(_ o: TrainingOutput<Double>) -> [Double] { o.score + o.size + o.offset + o.box }
            let out = net.forward(template: z, search: x, batch: b)
            let r = seededValues(flat(out).count, seed: 10)
            var d = OutputGradient<Double>()
            var k = 0
            func take(_ n: Int) -> [Double] { defer { k += n }; return Array(r[k..<k + n]) }
            d.score = take(out.score.count); d.size = take(out.size.count); d.offset = take(out.offset.count); d.box = take(out.box.count)
            net.zeroGradients()
            net.backward(d, output: out)
            func loss() -> Double { zip(flat(net.forward(template: z, search: x, batch: b)), r).reduce(0) { $0 + $1.0 * $1.1 } }
            var probes: [Int] = []
            for s in net.table.specs where s.isTrainable {
                probes += sampledIndices(s.count, count: 2, seed: UInt64(s.offset)).map { $0 + s.offset }
            }
            let analytic = probes.map { net.grads[$0] }
            let numeric = numericalGradient(of: loss, at: net.params, indices: probes)
            let scale = numeric.map(abs).max() ?? 0
            // Components far below the gradient's scale (e.g. a bias before a training-mode BN,
            // exactly 0) are compared against 1e-3 of that scale: ~1e-10 is difference noise.
            let (err, at) = worstRelativeError(analytic, numeric, floor: max(1e-6, 1e-3 * scale))
            let name = at >= 0 ? net.table.specs.last { $0.offset <= probes[at] }!.name : "-"
            print("gradcheck model \(cfg.name): \(probes.count) probes, worst relative error \(err) at \(name)")
            worstOverall = max(worstOverall, err)
            XCTAssertLessThan(err, 1e-5, "\(cfg.name): \(name) analytic \(at >= 0 ? analytic[at] : 0) numeric \(at >= 0 ? numeric[at] : 0)")
            // Every trainable tensor receives some gradient (nothing is disconnected), except the
            // bias of a layer followed by a training-mode BN: the batch mean removes it, so its
            // gradient is 0 mathematically and must be rounding noise, far below the scale.
            let biasesBeforeBatchNorm = Set(net.description.layers.compactMap { l -> String? in
                guard case let .convolution(cv) = l.kind, cv.bias, cv.batchNorm != nil else { return nil }
                return "\(l.name).bias"
            })
            let gradientScale = (0..<net.table.totalCount).map { abs(net.grads[$0]) }.max() ?? 0
            for s in net.table.specs where s.isTrainable {
                let g = (s.offset..<s.offset + s.count).map { abs(net.grads[$0]) }.max() ?? 0
                if biasesBeforeBatchNorm.contains(s.name) {
                    XCTAssertLessThan(g, 1e-9 * gradientScale, "\(cfg.name): \(s.name) precedes a training-mode BN yet has gradient \(g)")
                } else {
                    XCTAssertGreaterThan(g, 0, "\(cfg.name): \(s.name) gets no gradient")
                }
            }
        }
        print("gradcheck whole models: worst relative error \(worstOverall)")
    }

    /// Evaluation-mode forward (running statistics) equals the deployed model's forward
    /// (`Model.forward`: BN folded, weights packed), for every batch element.
    func testEvaluationForwardMatchesDeployedModel() throws {
        var configs = tinyConfigurations()
        configs.append(try ModelRegistry.configuration(named: "et-128-fgaf3-bn"))
        for cfg in configs {
            // The probe weights keep a deep float32 network well conditioned (RandomWeights.Scheme).
            let model = try Model(cfg)
            try model.load(RandomWeights.tensors(for: cfg, seed: 11, scheme: .probe))
            let net = try TrainingNetwork<Float>(cfg)
            net.load(model.parameters)
            net.training = false
            let b = 2
            let z = seededValues(b * 3 * cfg.templateSize * cfg.templateSize, seed: 12).map { Float($0) }
            let x = seededValues(b * 3 * cfg.searchSize * cfg.searchSize, seed: 13).map { Float($0) }
            let out = net.forward(template: z, search: x, batch: b)
            let zn = 3 * cfg.templateSize * cfg.templateSize, xn = 3 * cfg.searchSize * cfg.searchSize
            for bi in 0..<b {
                let ref = try model.forward(template: Tensor(shape: [1, 3, cfg.templateSize, cfg.templateSize], data: Array(z[bi * zn..<(bi + 1) * zn])),
                                            search: Tensor(shape: [1, 3, cfg.searchSize, cfg.searchSize], data: Array(x[bi * xn..<(bi + 1) * xn])))
                func compare(_ mine: [Float], _ theirs: Tensor?, _ what: String) {
                    guard let theirs else { return XCTAssertTrue(mine.isEmpty, "\(cfg.name) \(what)") }
                    let n = theirs.data.count
                    let slice = Array(mine[bi * n..<(bi + 1) * n]).map(Double.init)
                    let scale = theirs.data.map { abs(Double($0)) }.max() ?? 0
                    // The project's contract measure (ExportTests): max |diff| / max |reference| ≤ 1e-4.
                    let (e, i) = worstRelativeError(slice, theirs.data.map(Double.init), floor: max(1e-6, scale))
                    XCTAssertLessThan(e, 1e-4, "\(cfg.name) \(what)[\(i)]: training network \(slice[max(i, 0)]) deployed \(theirs.data[max(i, 0)])")
                }
                compare(out.score, ref.score, "score"); compare(out.size, ref.size, "size"); compare(out.offset, ref.offset, "offset")
                compare(out.box, ref.box, "box"); compare(out.topLeft, ref.topLeft, "topLeft"); compare(out.bottomRight, ref.bottomRight, "bottomRight")
            }
        }
    }
}
