import ETCore
import Foundation
import ETNN

/// Deterministic pseudo-random numbers for tests (64-bit LCG, top 24 bits).
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 6364136223846793005 &+ 1442695040888963407 }
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24)
    }
    /// Uniform in [-a, a).
    mutating func symmetric(_ a: Float) -> Float { (next() * 2 - 1) * a }
    mutating func array(_ n: Int, _ a: Float) -> [Float] { (0..<n).map { _ in symmetric(a) } }
}

/// Random weights with sensible scales: weights He-uniform U(±√(6/fan_in)) (times `gain`), so that
/// signals neither vanish nor saturate through the ReLU towers; biases U(±0.1), BN γ ≈ 1, running
/// statistics away from zero variance, tables U(±0.1).
func randomize(_ model: Model, seed: UInt64, gain: Float = 1) {
    var r = TestRandom(seed: seed)
    var p = model.parameters
    for s in model.table.specs {
        for i in 0..<s.count {
            let v: Float
            switch s.role {
            case .weight: v = r.symmetric(gain * (6 / Float(s.shape.dropFirst().reduce(1, *))).squareRoot())
            case .bias, .normBias, .runningMean: v = r.symmetric(0.1)
            case .normWeight: v = 1 + r.symmetric(0.2)
            case .runningVar: v = 0.5 + r.next()
            case .table: v = r.symmetric(0.1)
            }
            p[s.offset + i] = v
        }
    }
    model.parameters = p
}

/// A plain, unfolded, PyTorch-layout reference of the whole network (eval mode), written from
/// architecture.md independently of the engine: NCHW convolutions, BN with running statistics,
/// EfficientTrack sub-layers channel-major (C×N) as in the reference code, loops with Double sums.
struct ReferenceModel {
    let model: Model
    var cfg: ModelConfiguration { model.configuration }
    func w(_ n: String) -> [Float] { model.array(n) }

    static func conv2d(_ x: [Float], c: Int, h: Int, w: Int, weight: [Float], bias: [Float]?, out o: Int,
                       k: Int, stride: Int, pad: Int, groups: Int = 1) -> (y: [Float], h: Int, w: Int) {
        let oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1
        let cg = c / groups, og = o / groups
        var y = [Float](repeating: 0, count: o * oh * ow)
        for oc in 0..<o {
            let g = oc / og
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var s = Double(bias?[oc] ?? 0)
                    for ic in 0..<cg {
                        for ky in 0..<k {
                            let iy = oy * stride - pad + ky
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<k {
                                let ix = ox * stride - pad + kx
                                if ix < 0 || ix >= w { continue }
                                s += Double(x[((g * cg + ic) * h + iy) * w + ix]) * Double(weight[((oc * cg + ic) * k + ky) * k + kx])
                            }
                        }
                    }
                    y[(oc * oh + oy) * ow + ox] = Float(s)
                }
            }
        }
        return (y, oh, ow)
    }

    /// Eval-mode BN over channel-major planes.
    func bn(_ x: inout [Float], _ name: String, channels c: Int) {
        let g = w("\(name).weight"), b = w("\(name).bias"), m = w("\(name).running_mean"), v = w("\(name).running_var")
        let plane = x.count / c
        for ch in 0..<c {
            for i in 0..<plane {
                x[ch * plane + i] = (x[ch * plane + i] - m[ch]) / (v[ch] + 1e-5).squareRoot() * g[ch] + b[ch]
            }
        }
    }

    /// LayerNorm over C of token-major rows.
    static func layerNorm(_ x: [Float], rows n: Int, c: Int, weight: [Float], bias: [Float]) -> [Float] {
        var y = x
        for i in 0..<n {
            var m = 0.0
            for j in 0..<c { m += Double(x[i * c + j]) }
            m /= Double(c)
            var v = 0.0
            for j in 0..<c { v += (Double(x[i * c + j]) - m) * (Double(x[i * c + j]) - m) }
            v /= Double(c)
            for j in 0..<c { y[i * c + j] = Float((Double(x[i * c + j]) - m) / (v + 1e-5).squareRoot()) * weight[j] + bias[j] }
        }
        return y
    }

    /// y[N×O] = x[N×I]·Wᵀ + b.
    static func linear(_ x: [Float], rows n: Int, weight: [Float], bias: [Float]?, out o: Int) -> [Float] {
        let i = weight.count / o
        var y = [Float](repeating: 0, count: n * o)
        for r in 0..<n {
            for c in 0..<o {
                var s = Double(bias?[c] ?? 0)
                for k in 0..<i { s += Double(x[r * i + k]) * Double(weight[c * i + k]) }
                y[r * o + c] = Float(s)
            }
        }
        return y
    }

    static func transpose(_ x: [Float], rows: Int, cols: Int) -> [Float] {
        var y = x
        for r in 0..<rows { for c in 0..<cols { y[c * rows + r] = x[r * cols + c] } }
        return y
    }

    /// Attention on token-major q, k (N×dk) and v (N×dv): softmax over keys of q·kᵀ·scale, times v.
    static func attention(q: [Float], k: [Float], v: [Float], n: Int, dk: Int, dv: Int, scale: Float) -> [Float] {
        var out = [Float](repeating: 0, count: n * dv)
        for i in 0..<n {
            var logits = [Double](repeating: 0, count: n)
            for j in 0..<n {
                var s = 0.0
                for d in 0..<dk { s += Double(q[i * dk + d]) * Double(k[j * dk + d]) }
                logits[j] = s * Double(scale)
            }
            let mx = logits.max()!
            let e = logits.map { Foundation.exp($0 - mx) }, z = e.reduce(0, +)
            for d in 0..<dv {
                var s = 0.0
                for j in 0..<n { s += e[j] / z * Double(v[j * dv + d]) }
                out[i * dv + d] = Float(s)
            }
        }
        return out
    }

    func hardswish(_ x: Float) -> Float { x * min(max(x + 3, 0), 6) / 6 }
    func gelu(_ x: Float) -> Float { Float(0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot()))) }

    /// Stem on one image [3×S×S] → token-major [T×C].
    func stem(_ img: [Float], side: Int) -> [Float] {
        var x = img, c = 3, h = side, wd = side
        if cfg.stem == .linear16 {
            let r = Self.conv2d(x, c: 3, h: h, w: wd, weight: w("patch_embed.proj.weight"), bias: w("patch_embed.proj.bias"),
                                out: cfg.channels, k: 16, stride: 16, pad: 0)
            return Self.transpose(r.y, rows: cfg.channels, cols: r.h * r.w)
        }
        for (i, o) in cfg.stemWidths.enumerated() {
            let k = cfg.stem == .conv3x3 ? 3 : 2
            var r = Self.conv2d(x, c: c, h: h, w: wd, weight: w("patch_embed.\(i).conv.weight"), bias: nil, out: o,
                                k: k, stride: 2, pad: k == 3 ? 1 : 0)
            bn(&r.y, "patch_embed.\(i).bn", channels: o)
            if i < 3 { r.y = r.y.map(hardswish) }
            x = r.y; c = o; h = r.h; wd = r.w
        }
        return Self.transpose(x, rows: c, cols: h * wd)
    }

    func forward(template: [Float], search: [Float]) -> [String: [Float]] {
        let c = cfg.channels
        let z = stem(template, side: cfg.templateSize), xs = stem(search, side: cfg.searchSize)
        var x: [Float]
        switch cfg.tokenLayout {
        case .templateSearch:
            x = zip(z, w("pos_z")).map(+) + zip(xs, w("pos_x")).map(+)
        case .clsSearchTemplate:
            x = zip(w("cls_token") + xs + z, w("pos_embed")).map(+)
        }
        let n = cfg.tokens
        for b in 0..<cfg.depth {
            let p = "blocks.\(b)"
            if cfg.block == .vit {
                let h = Self.layerNorm(x, rows: n, c: c, weight: w("\(p).norm1.weight"), bias: w("\(p).norm1.bias"))
                x = zip(x, mhsa(h, prefix: "\(p).attn.", bias: cfg.qkvBias)).map(+)
                let h2 = Self.layerNorm(x, rows: n, c: c, weight: w("\(p).norm2.weight"), bias: w("\(p).norm2.bias"))
                let f1 = Self.linear(h2, rows: n, weight: w("\(p).mlp.fc1.weight"), bias: w("\(p).mlp.fc1.bias"), out: cfg.ffnRatio * c).map(gelu)
                x = zip(x, Self.linear(f1, rows: n, weight: w("\(p).mlp.fc2.weight"), bias: w("\(p).mlp.fc2.bias"), out: c)).map(+)
                continue
            }
            // EfficientTrack: channel-major (C×N) as the reference code.
            var xc = Self.transpose(x, rows: n, cols: c)
            for (j, kind) in cfg.block.subLayers(ffnRatio: cfg.ffnRatio, sandwichFFNRatio: cfg.sandwichFFNRatio).enumerated() {
                let q = "\(p).\(j)"
                switch kind {
                case let .ffn(r):
                    var h = Self.conv2d(xc, c: c, h: 1, w: n, weight: w("\(q).fc1.conv.weight"), bias: nil, out: r * c, k: 1, stride: 1, pad: 0).y
                    bn(&h, "\(q).fc1.bn", channels: r * c)
                    h = h.map { max($0, 0) }
                    var y = Self.conv2d(h, c: r * c, h: 1, w: n, weight: w("\(q).fc2.conv.weight"), bias: nil, out: c, k: 1, stride: 1, pad: 0).y
                    bn(&y, "\(q).fc2.bn", channels: c)
                    xc = zip(xc, y).map(+)
                case .attention:
                    let t = Self.transpose(xc, rows: c, cols: n)
                    let h = cfg.attentionNorm ? Self.layerNorm(t, rows: n, c: c, weight: w("\(q).norm.weight"), bias: w("\(q).norm.bias")) : t
                    xc = zip(xc, Self.transpose(mhsa(h, prefix: "\(q).", bias: false), rows: n, cols: c)).map(+)
                case .groupedAttention:
                    let hh = cfg.heads, kd = cfg.groupedKeyDim, vd = cfg.groupedValueDim, hd = 2 * kd + vd
                    let qkv = Self.conv2d(xc, c: c, h: 1, w: n, weight: w("\(q).qkv.weight"), bias: w("\(q).qkv.bias"),
                                          out: hh * hd, k: 1, stride: 1, pad: 0, groups: hh).y  // (h·hd)×N
                    var cat = [Float](repeating: 0, count: hh * vd * n)   // channel-major
                    for i in 0..<hh {
                        func rows(_ a: Int, _ cnt: Int) -> [Float] {
                            Self.transpose(Array(qkv[(i * hd + a) * n..<(i * hd + a + cnt) * n]), rows: cnt, cols: n)
                        }
                        let o = Self.attention(q: rows(0, kd), k: rows(kd, kd), v: rows(2 * kd, vd), n: n, dk: kd, dv: vd,
                                               scale: 1 / Float(kd).squareRoot())
                        let oc = Self.transpose(o, rows: n, cols: vd)
                        for e in 0..<vd * n { cat[i * vd * n + e] = max(oc[e], 0) }
                    }
                    var y = Self.conv2d(cat, c: hh * vd, h: 1, w: n, weight: w("\(q).proj.weight"), bias: w("\(q).proj.bias"), out: c, k: 1, stride: 1, pad: 0).y
                    bn(&y, "\(q).bn", channels: c)
                    xc = zip(xc, y).map(+)
                }
            }
            x = Self.transpose(xc, rows: c, cols: n)
        }
        x = Self.layerNorm(x, rows: n, c: c, weight: w("norm.weight"), bias: w("norm.bias"))
        let s = cfg.searchSide, m = s * s
        let row0 = cfg.tokenLayout == .templateSearch ? cfg.templateTokens : 1
        var tok = Array(x[row0 * c..<(row0 + m) * c])
        if cfg.head == .corner && cfg.hasClassToken {
            let cls = Array(x[0..<c])
            for p in 0..<m {
                var d = 0.0
                for j in 0..<c { d += Double(tok[p * c + j]) * Double(cls[j]) }
                for j in 0..<c { tok[p * c + j] *= Float(d) }
            }
        }
        let feat = Self.transpose(tok, rows: m, cols: c)
        func tower(_ t: String, outputs: Int) -> [Float] {
            var f = feat, cin = c
            for l in 1...4 {
                let o = [cfg.headChannels, cfg.headChannels / 2, cfg.headChannels / 4, cfg.headChannels / 8][l - 1]
                var r = Self.conv2d(f, c: cin, h: s, w: s, weight: w("box_head.conv\(l)_\(t).0.weight"),
                                    bias: w("box_head.conv\(l)_\(t).0.bias"), out: o, k: 3, stride: 1, pad: 1).y
                bn(&r, "box_head.conv\(l)_\(t).1", channels: o)
                f = r.map { max($0, 0) }
                cin = o
            }
            return Self.conv2d(f, c: cin, h: s, w: s, weight: w("box_head.conv5_\(t).weight"), bias: w("box_head.conv5_\(t).bias"),
                               out: outputs, k: 1, stride: 1, pad: 0).y
        }
        func sig(_ v: Float) -> Float { min(max(Float(1 / (1 + Foundation.exp(-Double(v)))), 1e-4), 1 - 1e-4) }
        if cfg.head == .center {
            return ["score": tower("ctr", outputs: 1).map(sig), "size": tower("size", outputs: 2).map(sig),
                    "offset": tower("offset", outputs: 2)]
        }
        func softmax(_ v: [Float]) -> [Float] {
            let mx = v.max()!, e = v.map { Foundation.exp(Double($0 - mx)) }, z = e.reduce(0, +)
            return e.map { Float($0 / z) }
        }
        let tl = softmax(tower("tl", outputs: 1)), br = softmax(tower("br", outputs: 1))
        var x1 = 0.0, y1 = 0.0, x2 = 0.0, y2 = 0.0
        for i in 0..<m {
            x1 += Double(tl[i]) * Double(i % s * 16); y1 += Double(tl[i]) * Double(i / s * 16)
            x2 += Double(br[i]) * Double(i % s * 16 + 15); y2 += Double(br[i]) * Double(i / s * 16 + 15)
        }
        let sz = Double(cfg.searchSize)
        let box = [(x1 + x2) / 2 / sz, (y1 + y2) / 2 / sz, (x2 - x1) / sz, (y2 - y1) / sz].map { Float($0) }
        return ["box": box, "topLeft": tl, "bottomRight": br]
    }

    /// Multi-head self-attention on normalised token-major h (N×C): qkv [q|k|v], proj.
    func mhsa(_ h: [Float], prefix: String, bias: Bool) -> [Float] {
        let c = cfg.channels, n = h.count / c, heads = cfg.heads, dh = c / heads
        let qkv = Self.linear(h, rows: n, weight: w("\(prefix)qkv.weight"), bias: bias ? w("\(prefix)qkv.bias") : nil, out: 3 * c)
        var cat = [Float](repeating: 0, count: n * c)
        for i in 0..<heads {
            func part(_ which: Int) -> [Float] {
                var a = [Float](repeating: 0, count: n * dh)
                for r in 0..<n { for d in 0..<dh { a[r * dh + d] = qkv[r * 3 * c + which * c + i * dh + d] } }
                return a
            }
            let o = Self.attention(q: part(0), k: part(1), v: part(2), n: n, dk: dh, dv: dh, scale: 1 / Float(dh).squareRoot())
            for r in 0..<n { for d in 0..<dh { cat[r * c + i * dh + d] = o[r * dh + d] } }
        }
        return Self.linear(cat, rows: n, weight: w("\(prefix)proj.weight"), bias: w("\(prefix)proj.bias"), out: c)
    }
}
