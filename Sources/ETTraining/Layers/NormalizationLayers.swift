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
    public func forward<T: TrainingScalar>(out: MP<T>, inp: CP<T>, params: MP<T>, outer: Int, inner: Int,
                                           training: Bool, updateRunningStatistics: Bool, cache: inout Cache<T>) {
        let c = channels, n = outer * inner
        cache.training = training
        if cache.mean.count != c { cache.mean = [T](repeating: 0, count: c); cache.rstd = cache.mean }
        for ch in 0..<c {
            var mean: T, variance: T
            if training {
                var s: T = 0
                for o in 0..<outer { let p = inp + (o * c + ch) * inner; for i in 0..<inner { s += p[i] } }
                mean = s / T(n)
                var v: T = 0
                for o in 0..<outer { let p = inp + (o * c + ch) * inner; for i in 0..<inner { let d = p[i] - mean; v += d * d } }
                variance = v / T(n)
                if updateRunningStatistics {
                    let m = T(Self.momentum)
                    params[runningMean + ch] = (1 - m) * params[runningMean + ch] + m * mean
                    params[runningVar + ch] = (1 - m) * params[runningVar + ch] + m * variance * T(n) / T(max(n - 1, 1))
                }
            } else {
                mean = params[runningMean + ch]; variance = params[runningVar + ch]
            }
            let rstd = 1 / (variance + T(Self.epsilon)).squareRoot()
            cache.mean[ch] = mean; cache.rstd[ch] = rstd
            let g = params[weight + ch] * rstd, b = params[bias + ch] - mean * g
            for o in 0..<outer {
                let p = inp + (o * c + ch) * inner, q = out + (o * c + ch) * inner
                for i in 0..<inner { q[i] = p[i] * g + b }
            }
        }
    }

    /// dInp += ∂L/∂inp, dγ += Σ dOut·x̂, dβ += Σ dOut.
    public func backward<T: TrainingScalar>(dInp: MP<T>, dOut: CP<T>, inp: CP<T>, params: CP<T>, grads: MP<T>,
                                            outer: Int, inner: Int, cache: Cache<T>) {
        let c = channels, n = T(outer * inner)
        for ch in 0..<c {
            let mean = cache.mean[ch], rstd = cache.rstd[ch]
            var sumD: T = 0, sumDX: T = 0
            for o in 0..<outer {
                let p = inp + (o * c + ch) * inner, d = dOut + (o * c + ch) * inner
                for i in 0..<inner { sumD += d[i]; sumDX += d[i] * (p[i] - mean) * rstd }
            }
            grads[weight + ch] += sumDX
            grads[bias + ch] += sumD
            let g = params[weight + ch] * rstd
            for o in 0..<outer {
                let p = inp + (o * c + ch) * inner, d = dOut + (o * c + ch) * inner, q = dInp + (o * c + ch) * inner
                if cache.training {
                    for i in 0..<inner {
                        let xh = (p[i] - mean) * rstd
                        q[i] += g * (d[i] - sumD / n - xh * sumDX / n)
                    }
                } else {
                    for i in 0..<inner { q[i] += g * d[i] }
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
