import ETNN
import Foundation

/// Which tensors decay and at what learning-rate multiple: the parameter groups of the recipe.
public struct ParameterGroups: Equatable, Sendable {
    /// Learning-rate multiple of everything but the head (`box_head.*`): the recipe's
    /// `BACKBONE_MULTIPLIER` (0.1 in EfficientTrack's base.yaml, 1 for runs from scratch).
    public var backboneMultiplier: Double
    /// Decay every trainable tensor (OSTrack's code does), instead of weights only.
    public var decayAll: Bool
    public init(backboneMultiplier: Double = 1, decayAll: Bool = false) {
        self.backboneMultiplier = backboneMultiplier; self.decayAll = decayAll
    }

    /// Contiguous runs of the flat buffer with their lr multiple and whether they decay; BN
    /// running statistics are not in any run (they are buffers, never stepped).
    public func runs(of table: ParameterTable) -> [(range: Range<Int>, lrMultiple: Double, decays: Bool)] {
        table.specs.filter(\.isTrainable).map { s in
            let head = s.name.hasPrefix("box_head.")
            // Norm γ/β, biases and position tables / cls token do not decay (the usual ViT rule).
            let decays = decayAll || s.role == .weight
            return (s.offset..<s.offset + s.count, head ? 1 : backboneMultiplier, decays)
        }
    }
}

/// AdamW as PyTorch's `torch.optim.AdamW` (decoupled weight decay, bias-corrected moments,
/// ε added to √v̂), over one flat parameter buffer: the moments share its layout.
///
/// Per element, at step t: p ← p·(1 − lr·wd); m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
/// p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε), in Float per element as PyTorch's kernels.
public final class AdamW {
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
    public var weightDecay: Double
    /// Moments in the parameter layout (checkpointed).
    public var m: [Float], v: [Float]
    /// Steps taken (checkpointed): the t of the bias corrections.
    public var step = 0
    let runs: [(range: Range<Int>, lrMultiple: Double, decays: Bool)]

    public init(table: ParameterTable, groups: ParameterGroups, weightDecay: Double = 1e-4) {
        self.weightDecay = weightDecay
        runs = groups.runs(of: table)
        m = [Float](repeating: 0, count: table.totalCount)
        v = [Float](repeating: 0, count: table.totalCount)
    }

    /// One update of `params` from `grads` at base learning rate `lr`.
    public func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, lr: Double) {
        step += 1
        let c1 = 1 - Foundation.pow(beta1, Double(step)), c2 = (1 - Foundation.pow(beta2, Double(step))).squareRoot()
        // As PyTorch's float32 kernels: β and 1 − β are each rounded from Double (1 − Float(β2)
        // would be off by 1.3e-5 relative).
        let b1 = Float(beta1), b2 = Float(beta2), a1 = Float(1 - beta1), a2 = Float(1 - beta2)
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                for run in runs {
                    let rate = lr * run.lrMultiple
                    let decay = Float(run.decays ? 1 - rate * weightDecay : 1)
                    let stepSize = Float(rate / c1), bias2 = Float(c2), eps = Float(epsilon)
                    for i in run.range {
                        let g = grads[i]
                        var p = params[i] * decay
                        let mi = b1 * m[i] + a1 * g
                        let vi = b2 * v[i] + a2 * g * g
                        m[i] = mi; v[i] = vi
                        p -= stepSize * mi / (vi.squareRoot() / bias2 + eps)
                        params[i] = p
                    }
                }
            }
        }
    }
}

/// The recipe's schedule in optimiser steps: optional linear warm-up from 0, then the base rate
/// multiplied by `gamma` at each milestone (StepLR/MultiStepLR; the recipe drops ×0.1 at 80% of
/// training).
public struct StepSchedule: Equatable, Sendable, Codable {
    public var baseRate: Double
    public var warmupSteps: Int
    public var milestones: [Int]
    public var gamma: Double
    public init(baseRate: Double, warmupSteps: Int = 0, milestones: [Int] = [], gamma: Double = 0.1) {
        self.baseRate = baseRate; self.warmupSteps = warmupSteps; self.milestones = milestones; self.gamma = gamma
    }

    /// The rate of (0-based) step `step`.
    public func rate(at step: Int) -> Double {
        var r = baseRate
        for m in milestones where step >= m { r *= gamma }
        if warmupSteps > 0, step < warmupSteps { r *= Double(step + 1) / Double(warmupSteps) }
        return r
    }
}

public enum GradientClipping {
    /// The global L2 norm of `count` gradients (Double accumulation, fixed order).
    public static func norm(_ g: UnsafePointer<Float>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(g[i]) * Double(g[i]) }
        return s.squareRoot()
    }

    /// `torch.nn.utils.clip_grad_norm_`: scales by max/(norm + 1e-6) when that is below 1.
    /// Returns the norm before clipping.
    @discardableResult
    public static func clip(_ g: UnsafeMutablePointer<Float>, count: Int, maxNorm: Double) -> Double {
        let n = norm(g, count: count)
        let k = maxNorm / (n + 1e-6)
        if k < 1 { let f = Float(k); for i in 0..<count { g[i] *= f } }
        return n
    }
}
