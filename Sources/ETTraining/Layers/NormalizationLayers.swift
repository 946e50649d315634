import ETCore

/// BatchNorm over the channels of x laid out [outer, C, inner]: BN2d on NCHW (outer B, inner H·W)
/// and BN1d on token-major rows (outer B·N, inner 1). Training mode normalises with the batch
/// statistics (biased variance) and updates the running statistics as PyTorch does (momentum 0.1,
/// unbiased variance); evaluation mode uses the running statistics. eps 1e-5.
public struct BatchNormLayer: Sendable {
    public var channels: Int
    /// Offsets of γ, β, running mean, running variance.
    public var weight: Int, bias: Int, runningMean: Int, runningVar: Int
    public static let momentum = 0.1, epsilon = 1e-5

    public init(channels: Int, weight: Int, bias: Int, runningMean: Int, runningVar: Int) {
        self.channels = channels; self.weight = weight; self.bias = bias
        self.runningMean = runningMean; self.runningVar = runningVar
    }

    /// What the backward pass needs: per-channel mean and 1/σ (training mode) or nil (eval).
    public struct Cache<T: TrainingScalar>: Sendable {
        public var mean: [T] = [], rstd: [T] = []
        public var training = false
        public init() {}
    }

    /// out = BN(inp). In training mode, `params`' running statistics are updated when
    /// `updateRunningStatistics` (the gradient checks turn it off).
    ///
    /// Every pass walks the tensor in memory order with per-channel accumulators: a loop per
    /// channel over BN1d's token rows strides by C and re-reads the whole tensor C times (that
    /// was 20% of an et-128-fgaf3-bn training step at batch 32).
    public func forward<T: TrainingScalar>(out: MP<T>, inp: CP<T>, params: MP<T>, outer: Int, inner: Int,
                                           training: Bool, updateRunningStatistics: Bool, cache: inout Cache<T>) {
        let c = channels, n = outer * inner
        cache.training = training
        let work = MP<T>.allocate(capacity: 4 * c)
        defer { work.deallocate() }
        work.initialize(repeating: 0, count: 4 * c)
        let mean = work, variance = work + c, scale = work + 2 * c, shift = work + 3 * c
        if training {
            channelSums(inp, outer: outer, inner: inner, into: mean) { x, _ in x }
            for ch in 0..<c { mean[ch] /= T(n) }
            channelSums(inp, outer: outer, inner: inner, into: variance) { x, ch in let d = x - mean[ch]; return d * d }
            for ch in 0..<c {
                variance[ch] /= T(n)
                if updateRunningStatistics {
                    let m = T(Self.momentum)
                    params[runningMean + ch] = (1 - m) * params[runningMean + ch] + m * mean[ch]
                    params[runningVar + ch] = (1 - m) * params[runningVar + ch] + m * variance[ch] * T(n) / T(max(n - 1, 1))
                }
            }
        } else {
            for ch in 0..<c { mean[ch] = params[runningMean + ch]; variance[ch] = params[runningVar + ch] }
        }
        cache.mean = [T](repeating: 0, count: c); cache.rstd = cache.mean
        for ch in 0..<c {
            let rstd = 1 / (variance[ch] + T(Self.epsilon)).squareRoot()
            cache.mean[ch] = mean[ch]; cache.rstd[ch] = rstd
            scale[ch] = params[weight + ch] * rstd
            shift[ch] = params[bias + ch] - mean[ch] * scale[ch]
        }
        for o in 0..<outer {
            for ch in 0..<c {
                let p = (o * c + ch) * inner, g = scale[ch], b = shift[ch]
                for i in 0..<inner { out[p + i] = inp[p + i] * g + b }
            }
        }
    }

    /// acc[ch] += Σ f(x, ch) over the channel's values, in memory order (row loops over the
    /// channels when inner is 1, so they vectorise).
    @inline(__always)
    func channelSums<T: TrainingScalar>(_ x: CP<T>, outer: Int, inner: Int, into acc: MP<T>, _ f: (T, Int) -> T) {
        let c = channels
        if inner == 1 {
            for o in 0..<outer { let row = x + o * c; for ch in 0..<c { acc[ch] += f(row[ch], ch) } }
        } else {
            for o in 0..<outer {
                for ch in 0..<c {
                    let p = x + (o * c + ch) * inner
                    var s: T = 0
                    for i in 0..<inner { s += f(p[i], ch) }
                    acc[ch] += s
                }
            }
        }
    }

    /// dInp += ∂L/∂inp, dγ += Σ dOut·x̂, dβ += Σ dOut.
    public func backward<T: TrainingScalar>(dInp: MP<T>, dOut: CP<T>, inp: CP<T>, params: CP<T>, grads: MP<T>,
                                            outer: Int, inner: Int, cache: Cache<T>) {
        let c = channels, n = T(outer * inner)
        let work = MP<T>.allocate(capacity: 6 * c)
        defer { work.deallocate() }
        work.initialize(repeating: 0, count: 6 * c)
        let sumD = work, sumDX = work + c, mean = work + 2 * c, rstd = work + 3 * c, g = work + 4 * c, k = work + 5 * c
        for ch in 0..<c { mean[ch] = cache.mean[ch]; rstd[ch] = cache.rstd[ch] }
        channelSums(dOut, outer: outer, inner: inner, into: sumD) { d, _ in d }
        for o in 0..<outer {
            for ch in 0..<c {
                let p = (o * c + ch) * inner, m = mean[ch]
                var s: T = 0
                for i in 0..<inner { s += dOut[p + i] * (inp[p + i] - m) }
                sumDX[ch] += s
            }
        }
        for ch in 0..<c {
            sumDX[ch] *= rstd[ch]
            grads[weight + ch] += sumDX[ch]; grads[bias + ch] += sumD[ch]
            g[ch] = params[weight + ch] * rstd[ch]
            k[ch] = rstd[ch] * sumDX[ch] / n   // coefficient of (x − mean) in training mode
            sumD[ch] /= n
        }
        let training = cache.training
        for o in 0..<outer {
            for ch in 0..<c {
                let p = (o * c + ch) * inner, gc = g[ch], a = sumD[ch], kc = k[ch], m = mean[ch]
                if training {
                    for i in 0..<inner { dInp[p + i] += gc * (dOut[p + i] - a - (inp[p + i] - m) * kc) }
                } else {
                    for i in 0..<inner { dInp[p + i] += gc * dOut[p + i] }
                }
            }
        }
    }
}

/// LayerNorm over the C channels of each row (nn.LayerNorm(C), eps 1e-5, biased variance).
public struct LayerNormLayer: Sendable {
    public var channels: Int
    public var weight: Int, bias: Int
    public static let epsilon = 1e-5

    public init(channels: Int, weight: Int, bias: Int) {
        self.channels = channels; self.weight = weight; self.bias = bias
    }

    /// out = LN(inp); mean and rstd (rows each) are kept for the backward pass.
    public func forward<T: TrainingScalar>(out: MP<T>, mean: MP<T>, rstd: MP<T>, inp: CP<T>, params: CP<T>, rows: Int) {
        let c = channels
        for r in 0..<rows {
            let x = inp + r * c, y = out + r * c
            var s: T = 0
            for j in 0..<c { s += x[j] }
            let m = s / T(c)
            var v: T = 0
            for j in 0..<c { let d = x[j] - m; v += d * d }
            let rs = 1 / (v / T(c) + T(Self.epsilon)).squareRoot()
            mean[r] = m; rstd[r] = rs
            for j in 0..<c { y[j] = (x[j] - m) * rs * params[weight + j] + params[bias + j] }
        }
    }

    /// dInp += ∂L/∂inp, dγ += Σ dOut·x̂, dβ += Σ dOut.
    public func backward<T: TrainingScalar>(dInp: MP<T>, dOut: CP<T>, inp: CP<T>, mean: CP<T>, rstd: CP<T>,
                                            params: CP<T>, grads: MP<T>, rows: Int) {
        let c = channels
        for r in 0..<rows {
            let x = inp + r * c, d = dOut + r * c, q = dInp + r * c
            let m = mean[r], rs = rstd[r]
            var sumG: T = 0, sumGX: T = 0
            for j in 0..<c {
                let xh = (x[j] - m) * rs, g = d[j] * params[weight + j]
                sumG += g; sumGX += g * xh
                grads[weight + j] += d[j] * xh
                grads[bias + j] += d[j]
            }
            let invC = 1 / T(c)
            for j in 0..<c {
                let xh = (x[j] - m) * rs, g = d[j] * params[weight + j]
                q[j] += rs * (g - invC * sumG - xh * invC * sumGX)
            }
        }
    }
}
