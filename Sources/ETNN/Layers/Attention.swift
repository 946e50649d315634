import ETCore

// Size letters: N tokens, h heads, dk query/key dim per head, dv value dim per head.

/// softmax(Q·Kᵀ·scale)·V per head, softmax over the keys (last axis), as PyTorch computes
/// `(q @ k.transpose(-2, -1) * scale).softmax(-1) @ v`.
public enum ScaledDotProductAttention {
    /// - Parameters:
    ///   - out: N rows of h·dv (row stride `ldo`); head i writes columns [i·dv, (i+1)·dv).
    ///   - probs: optional cache of the attention probabilities (h×N×N) for the backward pass;
    ///     when nil, `scratch` (N×N) holds them one head at a time.
    ///   - q, k, v: head 0's first row; head i starts `headStride·i` floats later; rows are `ld` apart.
    public static func forward(out: UnsafeMutablePointer<Float>, ldo: Int, probs: UnsafeMutablePointer<Float>?,
                               scratch: UnsafeMutablePointer<Float>,
                               q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               ld: Int, headStride: Int, heads h: Int, qkDim dk: Int, valueDim dv: Int,
                               tokens n: Int, scale: Float, pool: ThreadPool = .serial) {
        for head in 0..<h {
            let p = probs.map { $0 + head * n * n } ?? scratch
            let off = head * headStride
            Kernels.gemm(m: n, n: n, k: dk, a: q + off, lda: ld, transA: false, b: k + off, ldb: ld, transB: true,
                         c: p, ldc: n, pool: pool)
            var s = scale
            Kernels.binary(.mul, count: n * n, a: p, aStride: 1, b: &s, bStride: 0, y: p)
            Kernels.softmax(rows: n, cols: n, p)
            Kernels.gemm(m: n, n: dv, k: n, a: p, lda: n, transA: false, b: v + off, ldb: ld, transB: false,
                         c: out + head * dv, ldc: ldo, pool: pool)
        }
    }
}

/// The attention half of a ViT block and EfficientTrack's A: x ← x + Proj(MHSA(LN(x))).
/// qkv is one Linear C→3C laid out [q | k | v], each split into h heads of C/h; scale (C/h)^-0.5.
/// `norm` is nil for A without its LayerNorm (the code before 2023-09-26).
public final class MultiHeadSelfAttention: @unchecked Sendable {
    public let channels: Int, heads: Int
    public let norm: (weight: [Float], bias: [Float])?
    public let qkv: Linear
    public let proj: Linear

    public init(channels: Int, heads: Int, norm: (weight: [Float], bias: [Float])?, qkv: Linear, proj: Linear) {
        precondition(channels % heads == 0 && qkv.outFeatures == 3 * channels && proj.inFeatures == channels)
        self.channels = channels; self.heads = heads; self.norm = norm; self.qkv = qkv; self.proj = proj
    }

    /// Floats of scratch `forward` needs for N tokens.
    public func scratchCount(tokens n: Int) -> Int { n * channels + n * 3 * channels + n * channels + n * n }

    /// x[N×C] ← x + Proj(MHSA(LN(x))), in place.
    public func forward(_ x: UnsafeMutablePointer<Float>, tokens n: Int, scratch: UnsafeMutablePointer<Float>,
                        pool: ThreadPool = .serial) {
        let c = channels
        let normed = scratch, qkvOut = scratch + n * c, attn = qkvOut + 3 * n * c, s = attn + n * c
        if let norm {
            norm.weight.withUnsafeBufferPointer { w in
                norm.bias.withUnsafeBufferPointer { b in
                    LayerNorm.forward(out: normed, mean: nil, rstd: nil, inp: x, weight: w.baseAddress!,
                                      bias: b.baseAddress!, rows: n, channels: c)
                }
            }
        } else {
            normed.update(from: x, count: n * c)
        }
        qkv.forward(out: qkvOut, inp: normed, rows: n, pool: pool)
        let dh = c / heads
        ScaledDotProductAttention.forward(out: attn, ldo: c, probs: nil, scratch: s, q: qkvOut, k: qkvOut + c,
                                          v: qkvOut + 2 * c, ld: 3 * c, headStride: dh, heads: heads, qkDim: dh,
                                          valueDim: dh, tokens: n, scale: 1 / Float(dh).squareRoot(), pool: pool)
        proj.forward(out: x, inp: attn, rows: n, accumulate: true, pool: pool)
    }
}

/// EfficientTrack's grouped attention GA (architecture.md §4.2): x ← x + BN(Proj(ReLU(concat_i
/// softmax(q_iᵀk_i/√k)·v_i))). qkv is a grouped 1×1 conv (groups = h; head i reads channels
/// [i·C/h, (i+1)·C/h) and writes [q (k) | k (k) | v (d)]); the proj conv has the BN folded in.
public final class GroupedAttention: @unchecked Sendable {
    public let channels: Int, heads: Int, keyDim: Int, valueDim: Int
    /// One Linear (C/h → 2k+d) per head.
    public let qkv: [Linear]
    /// h·d → C with the BN1d folded in.
    public let proj: Linear

    public init(channels: Int, heads: Int, keyDim: Int, valueDim: Int, qkv: [Linear], proj: Linear) {
        precondition(qkv.count == heads && proj.inFeatures == heads * valueDim && proj.outFeatures == channels)
        self.channels = channels; self.heads = heads; self.keyDim = keyDim; self.valueDim = valueDim
        self.qkv = qkv; self.proj = proj
    }

    var qkvChannels: Int { heads * (2 * keyDim + valueDim) }

    public func scratchCount(tokens n: Int) -> Int { n * qkvChannels + n * heads * valueDim + n * n }

    /// x[N×C] ← x + GA(x), in place.
    public func forward(_ x: UnsafeMutablePointer<Float>, tokens n: Int, scratch: UnsafeMutablePointer<Float>,
                        pool: ThreadPool = .serial) {
        let qc = qkvChannels, hd = 2 * keyDim + valueDim, cg = channels / heads
        let qkvOut = scratch, attn = scratch + n * qc, s = attn + n * heads * valueDim
        for g in 0..<heads {
            qkv[g].forward(out: qkvOut + g * hd, ldo: qc, inp: x + g * cg, ldi: channels, rows: n, pool: pool)
        }
        ScaledDotProductAttention.forward(out: attn, ldo: heads * valueDim, probs: nil, scratch: s, q: qkvOut,
                                          k: qkvOut + keyDim, v: qkvOut + 2 * keyDim, ld: qc, headStride: hd,
                                          heads: heads, qkDim: keyDim, valueDim: valueDim, tokens: n,
                                          scale: 1 / Float(keyDim).squareRoot(), pool: pool)
        Kernels.activate(attn, count: n * heads * valueDim, .relu)
        proj.forward(out: x, inp: attn, rows: n, accumulate: true, pool: pool)
    }
}

/// FFN_r (EfficientTrack) and the ViT MLP: x ← x + FC2(act(FC1(norm(x)))). EfficientTrack's FFN
/// has no norm and ReLU, with both Conv+BN units folded; the ViT MLP has LN and erf GELU.
public final class FeedForward: @unchecked Sendable {
    public let norm: (weight: [Float], bias: [Float])?
    public let fc1: Linear, fc2: Linear
    public let activation: Activation

    public init(norm: (weight: [Float], bias: [Float])?, fc1: Linear, fc2: Linear, activation: Activation) {
        precondition(fc1.outFeatures == fc2.inFeatures && fc1.inFeatures == fc2.outFeatures)
        self.norm = norm; self.fc1 = fc1; self.fc2 = fc2; self.activation = activation
    }

    public func scratchCount(tokens n: Int) -> Int { n * fc1.inFeatures + n * fc1.outFeatures }

    /// x[N×C] ← x + FFN(x), in place.
    public func forward(_ x: UnsafeMutablePointer<Float>, tokens n: Int, scratch: UnsafeMutablePointer<Float>,
                        pool: ThreadPool = .serial) {
        let c = fc1.inFeatures
        let hidden = scratch + n * c
        var src = UnsafePointer(x)
        if let norm {
            norm.weight.withUnsafeBufferPointer { w in
                norm.bias.withUnsafeBufferPointer { b in
                    LayerNorm.forward(out: scratch, mean: nil, rstd: nil, inp: x, weight: w.baseAddress!,
                                      bias: b.baseAddress!, rows: n, channels: c)
                }
            }
            src = UnsafePointer(scratch)
        }
        fc1.forward(out: hidden, inp: src, rows: n, activation: activation, pool: pool)
        fc2.forward(out: x, inp: hidden, rows: n, accumulate: true, pool: pool)
    }
}
