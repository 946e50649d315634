import ETCore
import ETData
import ETImage
import ETNN
import Foundation

/// The recipe's augmentation and crop settings (architecture.md §11, OSTrack's `base.yaml`).
public struct Augmentation: Equatable, Sendable, Codable {
    public var templateFactor = 2.0, searchFactor = 4.0
    /// Search-box centre jitter (× √(w·h) of the jittered box) and log-scale jitter σ.
    public var centerJitter = 3.0, scaleJitter = 0.25
    /// Brightness ×U[1 − b, 1 + b] per crop, values clamped to [0, 1] (pytracking `ToTensorAndJitter`).
    public var brightness = 0.2
    /// Probability that a pair is turned gray (both crops), and that each crop is mirrored.
    public var grayscale = 0.05, flip = 0.5
    public init() {}
    /// No randomness at all: the crops the tracker itself would cut (for overfitting checks).
    public static let none: Augmentation = {
        var a = Augmentation()
        a.centerJitter = 0; a.scaleJitter = 0; a.brightness = 0; a.grayscale = 0; a.flip = 0
        return a
    }()
}

/// Which frames sample `index` is made of.
public struct PairChoice: Equatable, Sendable {
    public var source: Int, video: Int, template: Int, search: Int
}

/// One batch: planar normalised crops and the search targets in crop fractions.
public struct TrainingBatch {
    public var template: [Float], search: [Float]
    public var targets: [BoundingBox]
    public var count: Int { targets.count }
}

/// Template/search pairs as pytracking's `TrackingSampler` in causal mode draws them, made
/// reproducible by index: sample i is a pure function of (seed, i), so a resumed or sharded run
/// draws the same pairs with no sampler state to save.
///
/// - Pick a source by `ratios`, a video uniformly, a visible template frame t (not the last
///   frame), then a visible search frame in (t, t + maxGap]; when there is none, another t with a
///   gap 5 frames wider. A still image (or a video with one visible frame) pairs with itself.
/// - Crops as the corrected tracker cuts them: side = ⌈√(w·h)·factor⌉, origin rounded half to
///   even, black outside the frame, resized with `ImageOps.cropResize`, normalised with the
///   model's ImageNet statistics. The target is (box − origin)/side, exactly where the tracker
///   decodes it (OSTrack's `transform_image_to_crop` centres on (size − 1)/2 instead: ≤ 0.5 px).
/// - The search crop is cut around the GT box jittered as OSTrack's `_get_jittered_box`.
public struct PairSampler: Sendable {
    public var sources: [TrainingSource]
    public var ratios: [Double]
    public var seed: UInt64
    public var maxGap = 200
    public var augmentation: Augmentation
    public let templateSize: Int, searchSize: Int
    public let mean: [Double], std: [Double]

    public init(sources: [TrainingSource], ratios: [Double]? = nil, seed: UInt64, configuration: ModelConfiguration,
                augmentation: Augmentation = Augmentation(),
                mean: [Double] = [0.485, 0.456, 0.406], std: [Double] = [0.229, 0.224, 0.225]) throws {
        guard !sources.isEmpty else { throw DatasetError(path: "--data", "no training data given") }
        let r = ratios ?? [Double](repeating: 1, count: sources.count)
        guard r.count == sources.count, r.allSatisfy({ $0 >= 0 && $0.isFinite }), r.reduce(0, +) > 0 else {
            throw DatasetError(path: "--data-ratios", "\(r.count) ratio(s) for \(sources.count) source(s); give one non-negative ratio per --data, not all zero")
        }
        self.sources = sources; self.ratios = r; self.seed = seed; self.augmentation = augmentation
        templateSize = configuration.templateSize; searchSize = configuration.searchSize
        self.mean = mean; self.std = std
    }

    /// The frames of sample `index`.
    public func choose(_ index: Int) -> PairChoice {
        var g = SeededGenerator(seed: seed, stream: "pair \(index)")
        let total = ratios.reduce(0, +)
        var u = g.nextUnitDouble() * total, s = 0
        while s < ratios.count - 1 && u >= ratios[s] { u -= ratios[s]; s += 1 }
        let videos = sources[s].videos
        let v = Int(g.next() % UInt64(videos.count))
        let visible = videos[v].visibleFrames, n = videos[v].framePaths.count
        guard visible.count >= 2 else { return PairChoice(source: s, video: v, template: visible[0], search: visible[0]) }
        let candidates = visible.filter { $0 < n - 1 }
        var gap = maxGap
        for _ in 0..<1000 {
            let t = candidates[Int(g.next() % UInt64(candidates.count))]
            let after = visible.filter { $0 > t && $0 <= t + gap }
            if !after.isEmpty { return PairChoice(source: s, video: v, template: t, search: after[Int(g.next() % UInt64(after.count))]) }
            gap += 5
        }
        return PairChoice(source: s, video: v, template: visible[0], search: visible[1])
    }

    /// The crops of sample `index`, written into `template` (3×Ht×Wt) and `search` (3×Hs×Ws);
    /// returns the search target.
    /// - Throws: the image reader's error naming the frame that does not decode.
    public func sample(_ index: Int, template: UnsafeMutablePointer<Float>, search: UnsafeMutablePointer<Float>) throws -> BoundingBox {
        let c = choose(index)
        let video = sources[c.source].videos[c.video]
        var g = SeededGenerator(seed: seed, stream: "augment \(index)")
        let a = augmentation
        let gray = g.nextUnitDouble() < a.grayscale
        let templateFrame = try ImageIO.read(path: video.framePaths[c.template])
        let searchFrame = c.search == c.template ? templateFrame : try ImageIO.read(path: video.framePaths[c.search])
        let tBox = video.boxes[c.template]!, sBox = video.boxes[c.search]!
        _ = try crop(templateFrame, box: tBox, around: tBox, factor: a.templateFactor, size: templateSize, gray: gray,
                     generator: &g, into: template)
        // OSTrack's _get_jittered_box: size·exp(N(0,1)·σ), centre + √(w'h')·j·(U − 0.5).
        let w = sBox.width * Foundation.exp(normal(&g) * a.scaleJitter), h = sBox.height * Foundation.exp(normal(&g) * a.scaleJitter)
        let reach = (w * h).squareRoot() * a.centerJitter
        let cx = sBox.centerX + reach * (g.nextUnitDouble() - 0.5), cy = sBox.centerY + reach * (g.nextUnitDouble() - 0.5)
        let jittered = BoundingBox(centerX: cx, centerY: cy, width: w, height: h)
        return try crop(searchFrame, box: sBox, around: jittered, factor: a.searchFactor, size: searchSize, gray: gray,
                        generator: &g, into: search)
    }

    /// A batch of samples `first ..< first + count`, decoded and cropped in parallel (each sample
    /// depends only on its index, so the batch does not depend on the thread count).
    public func batch(first: Int, count: Int) throws -> TrainingBatch {
        let tn = 3 * templateSize * templateSize, sn = 3 * searchSize * searchSize
        var template = [Float](repeating: 0, count: count * tn), search = [Float](repeating: 0, count: count * sn)
        var targets = [BoundingBox?](repeating: nil, count: count), errors = [Error?](repeating: nil, count: count)
        template.withUnsafeMutableBufferPointer { tp in
            search.withUnsafeMutableBufferPointer { sp in
                targets.withUnsafeMutableBufferPointer { out in
                    errors.withUnsafeMutableBufferPointer { err in
                        let tpb = tp.baseAddress!, spb = sp.baseAddress!, ob = out.baseAddress!, eb = err.baseAddress!
                        DispatchQueue.concurrentPerform(iterations: count) { i in
                            do { ob[i] = try sample(first + i, template: tpb + i * tn, search: spb + i * sn) } catch { eb[i] = error }
                        }
                    }
                }
            }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
        return TrainingBatch(template: template, search: search, targets: targets.map { $0! })
    }

    /// Cuts the square crop of `factor` around `around`, writes it normalised into `out` and
    /// returns `box` in crop fractions (mirrored with the crop when it is flipped).
    func crop(_ frame: Image, box: BoundingBox, around: BoundingBox, factor: Double, size: Int, gray: Bool,
              generator g: inout SeededGenerator, into out: UnsafeMutablePointer<Float>) throws -> BoundingBox {
        let a = augmentation
        let sideValue = ((around.width * around.height).squareRoot() * factor).rounded(.up)
        guard sideValue.isFinite, sideValue >= 1, sideValue < 1e6 else {
            throw DatasetError(path: "sample", "box \(around) gives an unusable crop side \(sideValue)")
        }
        let side = Int(sideValue)
        let x = Int((around.centerX - 0.5 * Double(side)).rounded(.toNearestOrEven))
        let y = Int((around.centerY - 0.5 * Double(side)).rounded(.toNearestOrEven))
        let cropped = ImageOps.cropResize(frame, x: x, y: y, width: side, height: side, padding: [0, 0, 0], outWidth: size, outHeight: size)
        let brightness = a.brightness > 0 ? 1 - a.brightness + 2 * a.brightness * g.nextUnitDouble() : 1
        let flip = g.nextUnitDouble() < a.flip
        let plane = size * size
        cropped.pixels.withUnsafeBufferPointer { p in
            let scale = Float(brightness / 255)
            for yy in 0..<size {
                for xx in 0..<size {
                    let src = (yy * size + (flip ? size - 1 - xx : xx)) * 3
                    var rgb = (Float(p[src]), Float(p[src + 1]), Float(p[src + 2]))
                    if gray {   // cv2 RGB2GRAY, replicated to three planes
                        let l = (0.299 * rgb.0 + 0.587 * rgb.1 + 0.114 * rgb.2).rounded()
                        rgb = (l, l, l)
                    }
                    let o = yy * size + xx
                    out[o] = (min(rgb.0 * scale, 1) - Float(mean[0])) / Float(std[0])
                    out[plane + o] = (min(rgb.1 * scale, 1) - Float(mean[1])) / Float(std[1])
                    out[2 * plane + o] = (min(rgb.2 * scale, 1) - Float(mean[2])) / Float(std[2])
                }
            }
        }
        let s = Double(side)
        var t = BoundingBox(x: (box.x - Double(x)) / s, y: (box.y - Double(y)) / s, width: box.width / s, height: box.height / s)
        if flip { t.x = 1 - t.x - t.width }
        return t
    }

    /// A standard normal draw (Box–Muller on two uniforms).
    func normal(_ g: inout SeededGenerator) -> Double {
        let u1 = max(g.nextUnitDouble(), 1e-300), u2 = g.nextUnitDouble()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }
}
