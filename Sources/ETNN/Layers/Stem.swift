import ETCore

// Size letters: H×W input image, C output channels, T = (H/16)·(W/16) tokens.

/// The patch-embedding stem (architecture.md §2), BN folded: conv3x3/conv2x2 are four stride-2
/// convolutions with Hardswish between them (none after the last), linear16 one 16×16 stride-16
/// convolution. Template and search share it.
public final class Stem: @unchecked Sendable {
    public let stages: [Conv2D]

    public init(stages: [Conv2D]) { self.stages = stages }

    public var channels: Int { stages.last!.parameters.outChannels }

    /// Floats of scratch for an H×W input.
    public func scratchCount(height h: Int, width w: Int) -> Int {
        var best = 0, hh = h, ww = w
        for s in stages {
            let (oh, ow) = s.parameters.outputSize(inH: hh, inW: ww)
            best = max(best, s.parameters.outChannels * oh * ow)
            hh = oh; ww = ow
        }
        return 2 * best
    }

    /// tokens[T×C] (row stride `ld`) = stem(image[3×H×W]) flattened row-major and transposed to
    /// token-major, i.e. `x.flatten(2).transpose(1, 2)`.
    public func forward(tokens: UnsafeMutablePointer<Float>, ld: Int, image: UnsafePointer<Float>, height h: Int,
                        width w: Int, scratch: UnsafeMutablePointer<Float>, pool: ThreadPool = .serial) {
        let half = scratchCount(height: h, width: w) / 2
        var src = image, hh = h, ww = w, dst = scratch
        for (i, s) in stages.enumerated() {
            s.forward(input: src, inH: hh, inW: ww, output: dst, scratch: nil, pool: pool)
            (hh, ww) = s.parameters.outputSize(inH: hh, inW: ww)
            src = UnsafePointer(dst)
            dst = i % 2 == 0 ? scratch + half : scratch
        }
        let c = channels, t = hh * ww
        for ch in 0..<c {
            for p in 0..<t { tokens[p * ld + ch] = src[ch * t + p] }
        }
    }
}
