import ETCore
import Foundation

// Size letters: C input channels, c head width, S search side (16), M = S·S map cells.

/// One head tower: [Conv3×3 p1 + BN + ReLU] ×4 (C→c→c/2→c/4→c/8, BN folded), then a Conv1×1.
public final class HeadTower: @unchecked Sendable {
    public let convs: [Conv2D]
    public let final: Conv2D

    public init(convs: [Conv2D], final: Conv2D) { self.convs = convs; self.final = final }

    public func scratchCount(side s: Int) -> Int { 2 * s * s * (convs.map(\.parameters.outChannels).max() ?? 1) }

    /// out[outputs×S×S] = tower(inp[C×S×S]).
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, side s: Int,
                        scratch: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        let half = scratchCount(side: s) / 2
        var src = inp, dst = scratch
        for (i, conv) in convs.enumerated() {
            conv.forward(input: src, inH: s, inW: s, output: dst, scratch: nil, pool: pool)
            src = UnsafePointer(dst)
            dst = i % 2 == 0 ? scratch + half : scratch
        }
        final.forward(input: src, inH: s, inW: s, output: out, scratch: nil, pool: pool)
    }
}

/// OSTrack's center head: score (sigmoid, clamped to [1e-4, 1−1e-4]), size (w, h; same) and
/// offset (dx, dy; raw) maps.
public final class CenterHead: @unchecked Sendable {
    public let score: HeadTower, size: HeadTower, offset: HeadTower

    public init(score: HeadTower, size: HeadTower, offset: HeadTower) {
        self.score = score; self.size = size; self.offset = offset
    }

    /// sigmoid then clamp to [1e-4, 1 − 1e-4] (OSTrack's `_sigmoid`).
    public static func clampedSigmoid(_ x: UnsafeMutablePointer<Float>, count: Int) {
        Kernels.activate(x, count: count, .sigmoid)
        for i in 0..<count { x[i] = min(max(x[i], 1e-4), 1 - 1e-4) }
    }

    /// Writes score[M], size[2M], offset[2M] from features[C×S×S].
    public func forward(score out1: UnsafeMutablePointer<Float>, size out2: UnsafeMutablePointer<Float>,
                        offset out3: UnsafeMutablePointer<Float>, features: UnsafePointer<Float>, side s: Int,
                        scratch: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        score.forward(out: out1, inp: features, side: s, scratch: scratch, pool: pool)
        size.forward(out: out2, inp: features, side: s, scratch: scratch, pool: pool)
        offset.forward(out: out3, inp: features, side: s, scratch: scratch, pool: pool)
        Self.clampedSigmoid(out1, count: s * s)
        Self.clampedSigmoid(out2, count: 2 * s * s)
    }
}

/// STARK's corner head (CORNER_v3): top-left and bottom-right heatmaps, each a softmax over its
/// M cells, then soft-argmax with grids ix·16 (TL) and ix·16 + 15 (BR), divided by the search size.
public final class CornerHead: @unchecked Sendable {
    public let topLeft: HeadTower, bottomRight: HeadTower
    public let stride: Int

    public init(topLeft: HeadTower, bottomRight: HeadTower, stride: Int = 16) {
        self.topLeft = topLeft; self.bottomRight = bottomRight; self.stride = stride
    }

    /// Soft-argmax of a probability map p[S×S]: (Σ p·(ix·stride + shift), Σ p·(iy·stride + shift)).
    public static func softArgmax(_ p: UnsafePointer<Float>, side s: Int, stride: Int, shift: Int) -> (Float, Float) {
        var x: Float = 0, y: Float = 0
        for iy in 0..<s {
            for ix in 0..<s {
                let v = p[iy * s + ix]
                x += v * Float(ix * stride + shift)
                y += v * Float(iy * stride + shift)
            }
        }
        return (x, y)
    }

    /// Writes tl[M] and br[M] (probabilities) and box[4] (cx, cy, w, h as fractions of the crop).
    public func forward(box: UnsafeMutablePointer<Float>, topLeft tl: UnsafeMutablePointer<Float>,
                        bottomRight br: UnsafeMutablePointer<Float>, features: UnsafePointer<Float>, side s: Int,
                        scratch: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        topLeft.forward(out: tl, inp: features, side: s, scratch: scratch, pool: pool)
        bottomRight.forward(out: br, inp: features, side: s, scratch: scratch, pool: pool)
        Kernels.softmax(rows: 1, cols: s * s, tl)
        Kernels.softmax(rows: 1, cols: s * s, br)
        let (x1, y1) = Self.softArgmax(tl, side: s, stride: stride, shift: 0)
        let (x2, y2) = Self.softArgmax(br, side: s, stride: stride, shift: stride - 1)
        let size = Float(s * stride)
        box[0] = (x1 + x2) / 2 / size
        box[1] = (y1 + y2) / 2 / size
        box[2] = (x2 - x1) / size
        box[3] = (y2 - y1) / size
    }
}
