import ETData
import ETCore
import ETImage
import ETONNX
import Foundation

/// The NanoTrack Siamese tracker: a template feature from the first frame, correlated with a
/// search region around the last position in every new frame.
///
/// Two modes (see `NanoTrackParameters.Mode`): `.openCVCompatible` reproduces OpenCV's
/// TrackerNano arithmetic exactly (all in Float, integer crops, OpenCV's constants and quirks);
/// `.corrected` follows the original NanoTrack tracker (Double arithmetic, BGR input, fixed scale
/// penalty, per-model hyper-parameters) and keeps the last box while the target is lost.
///
/// Unlike OpenCV's, `update` tells when the target is gone: `confidence` combines the peak
/// foreground probability with the peak-to-sidelobe ratio of the score map, and `state` is
/// `.lost` below `parameters.lostThreshold`.
///
/// Thread-safety: one tracker per thread; trackers may share one `NanoTrackModel`.
/// Steady-state `update` allocates nothing: crops, network inputs and activations live in
/// buffers planned at construction.
public final class NanoTracker: SingleObjectTracker {
    public let model: NanoTrackModel
    public let parameters: NanoTrackParameters

    static let exemplarSize = 127
    static let instanceSize = 255
    static let stride = 16

    private let templatePlan: ExecutionPlan
    private let searchPlan: ExecutionPlan
    private let headPlan: ExecutionPlan
    private var templateCrop = Image(width: exemplarSize, height: exemplarSize)
    private var searchCrop = Image(width: instanceSize, height: instanceSize)
    private let window: [Float]
    private let gridX: [Float]
    private let gridY: [Float]
    private var scoreMap: [Float]
    private var penalized: [Float]
    private var penalty: [Float]

    // Target state: centre and size in frame pixels.
    private var cx: Double = 0, cy: Double = 0, w: Double = 0, h: Double = 0
    private var frameWidth = 0, frameHeight = 0
    private var padding: [UInt8] = [0, 0, 0]
    private var initialized = false
    private var templateFeature: [Float] = []
    private let calibration: ConfidenceCalibration

    /// The foreground-probability map of the last update (scoreSize² values, row-major).
    public var lastScoreMap: [Float] { scoreMap }

    /// Creates a tracker on a shared model.
    /// - Parameters:
    ///   - parameters: Defaults to `NanoTrackParameters.default(for: model.version)`.
    ///   - pool: Threads for the networks (one by default).
    public init(model: NanoTrackModel, parameters: NanoTrackParameters? = nil, pool: ThreadPool = .serial) throws {
        self.model = model
        let params = parameters ?? .default(for: model.version)
        self.parameters = params
        calibration = params.calibration ?? .builtIn(for: model.version, mode: params.mode, openCV: params.openCVVersion)
        let input = model.backbone.inputNames[0]
        templatePlan = try ExecutionPlan(model: model.backbone, inputShapes: [input: [1, 3, Self.exemplarSize, Self.exemplarSize]], pool: pool)
        searchPlan = try ExecutionPlan(model: model.backbone, inputShapes: [input: [1, 3, Self.instanceSize, Self.instanceSize]], pool: pool)
        let z = templatePlan.outputShapes[model.backbone.outputNames[0]]!, x = searchPlan.outputShapes[model.backbone.outputNames[0]]!
        // The template feature (input1) changes only at initialize: its branch of the head runs once then.
        headPlan = try ExecutionPlan(model: model.head, inputShapes: ["input1": z, "input2": x], staticInputs: ["input1"], pool: pool)
        let S = model.scoreSize
        // Window: OpenCV's createHanningWindow is sqrt(hann_i · hann_j); the original uses the plain outer product.
        let hann = (0..<S).map { 0.5 * (1 - cos(2 * Double.pi * Double($0) / Double(S - 1))) }
        window = (0..<(S * S)).map { k in
            let p = hann[k / S] * hann[k % S]
            return Float(params.mode == .openCVCompatible ? p.squareRoot() : p)
        }
        // Cell (i, j) looks at search-crop pixel ((j − S/2)·16 + 127, (i − S/2)·16 + 127).
        gridX = (0..<(S * S)).map { Float(($0 % S - S / 2) * Self.stride + Self.instanceSize / 2) }
        gridY = (0..<(S * S)).map { Float(($0 / S - S / 2) * Self.stride + Self.instanceSize / 2) }
        scoreMap = [Float](repeating: 0, count: S * S)
        penalized = scoreMap
        penalty = scoreMap
    }

    /// Convenience: loads the model from a directory and makes one tracker.
    public convenience init(modelDirectory: String, parameters: NanoTrackParameters? = nil) throws {
        try self.init(model: NanoTrackModel(directory: modelDirectory), parameters: parameters)
    }

    private func checkFrame(_ frame: Image) throws {
        guard frame.width > 0, frame.height > 0 else { throw TrackingError("empty frame (\(frame.width)x\(frame.height))") }
        guard frame.channels == 3 else { throw TrackingError("frames must have 3 channels (RGB), got \(frame.channels)") }
    }

    public func initialize(frame: Image, box: BoundingBox) throws {
        try checkFrame(frame)
        try box.validate(frameWidth: frame.width, frameHeight: frame.height)
        frameWidth = frame.width; frameHeight = frame.height
        let ca = Double(parameters.contextAmount)
        let side: Int
        switch parameters.mode {
        case .openCVCompatible:
            // OpenCV takes an integer Rect; the centre and extent are Float.
            let bx = Float(Int(box.x)), by = Float(Int(box.y)), bw = Float(Int(box.width)), bh = Float(Int(box.height))
            guard bw > 0, bh > 0 else { throw TrackingError("box \(box) is smaller than one pixel; OpenCV-compatible mode needs integer sizes >= 1") }
            cx = Double(bx + bw * 0.5); cy = Double(by + bh * 0.5); w = Double(bw); h = Double(bh)
            let sum = bw + bh
            let we = bw + parameters.contextAmount * sum, he = bh + parameters.contextAmount * sum
            side = Int((we * he).squareRoot())
            padding = ImageOps.roundedMean(frame)
        case .corrected:
            cx = box.x + (box.width - 1) / 2; cy = box.y + (box.height - 1) / 2; w = box.width; h = box.height
            let we = w + ca * (w + h), he = h + ca * (w + h)
            side = Int((we * he).squareRoot().rounded(.toNearestOrEven))
            // The original writes the float mean into uint8 padding: truncation.
            padding = ImageOps.mean(frame).map { UInt8(max(0, min(255, $0.rounded(.towardZero)))) }
        }
        crop(frame, side: max(side, 1), output: Self.exemplarSize, into: &templateCrop)
        toNetworkInput(templateCrop, templatePlan)
        templatePlan.run()
        let feature = templatePlan.outputBuffer(model.backbone.outputNames[0])
        try TrackingError.checkFinite(feature, "the backbone's template feature '\(model.backbone.outputNames[0])'")
        headPlan.inputBuffer("input1").baseAddress!.update(from: feature.baseAddress!, count: feature.count)
        templateFeature = Array(feature)
        initialized = true
    }

    /// Crops a `side × side` window around the current centre (resized to `output`), padding with
    /// the mode's mean colour, exactly as the reference does.
    private func crop(_ frame: Image, side: Int, output: Int, into target: inout Image) {
        let x0: Int, y0: Int
        switch parameters.mode {
        case .openCVCompatible:
            let c = (side + 1) / 2
            x0 = Int(Float(cx)) - c; y0 = Int(Float(cy)) - c
            // OpenCV recomputes the whole-frame mean on every crop, but only uses it when padding.
            if x0 < 0 || y0 < 0 || x0 + side > frame.width || y0 + side > frame.height { padding = ImageOps.roundedMean(frame) }
        case .corrected:
            let c = Double(side + 1) / 2
            x0 = Int((cx - c + 0.5).rounded(.down)); y0 = Int((cy - c + 0.5).rounded(.down))
        }
        let pad = padding
        target.pixels.withUnsafeMutableBufferPointer { out in
            ImageOps.cropResize(frame, x: x0, y: y0, width: side, height: side, padding: pad,
                                outWidth: output, outHeight: output, into: out.baseAddress!)
        }
    }

    private func toNetworkInput(_ crop: Image, _ plan: ExecutionPlan) {
        // OpenCV feeds RGB (swapRB on BGR frames; our frames are RGB already); training used BGR.
        let order: ImageOps.ChannelOrder = parameters.mode == .openCVCompatible ? .rgb : .bgr
        ImageOps.toPlanar(crop, into: plan.inputBuffer(model.backbone.inputNames[0]).baseAddress!, channelOrder: order,
                          subtracting: [0, 0, 0], multiplyingBy: [1, 1, 1])
    }

    public func update(frame: Image) throws -> TrackingResult {
        guard initialized else { throw TrackingError("update called before initialize") }
        try checkFrame(frame)
        frameWidth = frame.width; frameHeight = frame.height
        switch parameters.mode {
        case .openCVCompatible: return try updateOpenCV(frame)
        case .corrected: return try updateCorrected(frame)
        }
    }

    /// Runs backbone(search) + head and fills `scoreMap` with the foreground probability.
    private func runNetworks(_ frame: Image, side: Int) throws -> (loc: UnsafeBufferPointer<Float>, S: Int) {
        crop(frame, side: max(side, 1), output: Self.instanceSize, into: &searchCrop)
        toNetworkInput(searchCrop, searchPlan)
        searchPlan.run()
        let feature = searchPlan.outputBuffer(model.backbone.outputNames[0])
        headPlan.inputBuffer("input2").baseAddress!.update(from: feature.baseAddress!, count: feature.count)
        headPlan.run()
        let cls = headPlan.outputBuffer("output1"), S = model.scoreSize, n = S * S
        // NaN would otherwise lose every comparison below and leave a finite, meaningless box.
        try TrackingError.checkFinite(cls, "the head's score map 'output1'")
        try TrackingError.checkFinite(headPlan.outputBuffer("output2"), "the head's box map 'output2'")
        for k in 0..<n {
            // Two-class softmax, max-subtracted as OpenCV does.
            let bg = cls[k], fg = cls[n + k], m = max(fg, bg)
            let e0 = expf(bg - m), e1 = expf(fg - m)
            scoreMap[k] = e1 / (e0 + e1)
        }
        return (headPlan.outputBuffer("output2"), S)
    }

    /// OpenCV TrackerNano::update, step for step in Float (see docs/trackers/opencv-versions.md).
    private func updateOpenCV(_ frame: Image) throws -> TrackingResult {
        var tw = Float(w), th = Float(h)
        let px = Float(cx), py = Float(cy)
        // 5.1 fixed three things here (docs/trackers/opencv-versions.md); before it the context sum
        // was an int, the window ratio the integer 255/127 = 2, and the scale penalty divided by
        // the size of the target's centre coordinates.
        let fixed = parameters.openCVVersion.nanoTrackHasFloatSearchWindow
        let sum = fixed ? tw + th : Float(Int(tw + th))
        let wc = tw + parameters.contextAmount * sum, hc = th + parameters.contextAmount * sum
        let sz = (wc * hc).squareRoot()
        let scaleZ = Float(Self.exemplarSize) / sz
        let ratioX = fixed ? Float(Self.instanceSize) / Float(Self.exemplarSize) : Float(Self.instanceSize / Self.exemplarSize)
        let sx = sz * ratioX
        tw *= scaleZ; th *= scaleZ
        let (loc, S) = try runNetworks(frame, side: Int(sx))
        let n = S * S
        func sizeCal(_ a: Float, _ b: Float) -> Float {
            let pad = (a + b) * 0.5
            return ((a + pad) * (b + pad)).squareRoot()
        }
        let targetScale = fixed ? sizeCal(tw, th) : sizeCal(px, py)  // < 5.1: the centre, not the scaled size
        let ratio = tw / th
        let wi = Double(parameters.windowInfluence), k = Double(parameters.penaltyK)
        var best = 0
        for c in 0..<n {
            let x1 = gridX[c] - loc[c], y1 = gridY[c] - loc[n + c], x2 = gridX[c] + loc[2 * n + c], y2 = gridY[c] + loc[3 * n + c]
            var sc = sizeCal(x2 - x1, y2 - y1) / targetScale
            sc = max(sc, 1 / sc)
            var rc = ratio / ((x2 - x1) / (y2 - y1))
            rc = max(rc, 1 / rc)
            penalty[c] = expf(Float((Double(rc * sc) - 1) * k * -1))
            let p = penalty[c] * scoreMap[c]
            penalized[c] = Float(Double(p) * (1 - wi) + Double(window[c]) * wi)
            if penalized[c] > penalized[best] { best = c }
        }
        let x1 = gridX[best] - loc[best], y1 = gridY[best] - loc[n + best]
        let x2 = gridX[best] + loc[2 * n + best], y2 = gridY[best] + loc[3 * n + best]
        let predXs = (x1 + x2) / 2, predYs = (y1 + y2) / 2
        let predW = (x2 - x1) / scaleZ, predH = (y2 - y1) / scaleZ
        let diffXs = (predXs - Float(Self.instanceSize / 2)) / scaleZ, diffYs = (predYs - Float(Self.instanceSize / 2)) / scaleZ
        tw /= scaleZ; th /= scaleZ
        let lr = penalty[best] * scoreMap[best] * parameters.learningRate
        var resX = px + diffXs, resY = py + diffYs
        var resW = predW * lr + (1 - lr) * tw, resH = predH * lr + (1 - lr) * th
        let fw = Float(frame.width), fh = Float(frame.height)
        resX = max(0, min(fw, resX)); resY = max(0, min(fh, resY))
        resW = max(10, min(fw, resW)); resH = max(10, min(fh, resH))
        cx = Double(resX); cy = Double(resY); w = Double(resW); h = Double(resH)
        let box = BoundingBox(x: Double(Int(resX - resW / 2)), y: Double(Int(resY - resH / 2)), width: Double(Int(resW)), height: Double(Int(resH)))
        return result(box: box, best: best, S: S)
    }

    /// The original NanoTrack tracker's update (Double arithmetic, fixed scale penalty).
    private func updateCorrected(_ frame: Image) throws -> TrackingResult {
        let ca = Double(parameters.contextAmount)
        let wz = w + ca * (w + h), hz = h + ca * (w + h)
        let sz = (wz * hz).squareRoot()
        let scaleZ = Double(Self.exemplarSize) / sz
        let sx = sz * Double(Self.instanceSize) / Double(Self.exemplarSize)
        let (loc, S) = try runNetworks(frame, side: Int(sx.rounded(.toNearestOrEven)))
        let n = S * S
        func sizeCal(_ a: Double, _ b: Double) -> Double {
            let pad = (a + b) * 0.5
            return ((a + pad) * (b + pad)).squareRoot()
        }
        let targetScale = sizeCal(w * scaleZ, h * scaleZ)
        let ratio = w / h
        let wi = Double(parameters.windowInfluence), k = Double(parameters.penaltyK)
        var best = 0
        for c in 0..<n {
            let pw = Double(loc[c]) + Double(loc[2 * n + c]), ph = Double(loc[n + c]) + Double(loc[3 * n + c])
            var sc = sizeCal(pw, ph) / targetScale
            sc = max(sc, 1 / sc)
            var rc = ratio / (pw / ph)
            rc = max(rc, 1 / rc)
            let pen = Foundation.exp(-(rc * sc - 1) * k)
            penalty[c] = Float(pen)
            penalized[c] = Float((pen * Double(scoreMap[c])) * (1 - wi) + Double(window[c]) * wi)
            if penalized[c] > penalized[best] { best = c }
        }
        let lr = Double(penalty[best]) * Double(scoreMap[best]) * Double(parameters.learningRate)
        let x1 = Double(gridX[best]) - Double(loc[best]), x2 = Double(gridX[best]) + Double(loc[2 * n + best])
        let y1 = Double(gridY[best]) - Double(loc[n + best]), y2 = Double(gridY[best]) + Double(loc[3 * n + best])
        let half = Double(Self.instanceSize / 2)
        var result = result(box: .init(x: 0, y: 0, width: 0, height: 0), best: best, S: S)
        if result.state != .lost {
            let ncx = ((x1 + x2) / 2 - half) / scaleZ + cx, ncy = ((y1 + y2) / 2 - half) / scaleZ + cy
            let nw = w * (1 - lr) + (x2 - x1) / scaleZ * lr, nh = h * (1 - lr) + (y2 - y1) / scaleZ * lr
            let fw = Double(frame.width), fh = Double(frame.height)
            cx = max(0, min(fw, ncx)); cy = max(0, min(fh, ncy))
            w = max(10, min(fw, nw)); h = max(10, min(fh, nh))
        }
        result.box = BoundingBox(x: cx - w / 2, y: cy - h / 2, width: w, height: h)
        return result
    }

    /// Confidence and state from the score map and the features at the chosen cell.
    private func result(box: BoundingBox, best: Int, S: Int) -> TrackingResult {
        let raw = Double(scoreMap[best])
        let psr = scoreMap.withUnsafeBufferPointer { ScoreMapStatistics.peakToSidelobeRatio($0, size: S, peak: best) }
        let search = searchPlan.outputBuffer(model.backbone.outputNames[0])
        let similarity = templateFeature.withUnsafeBufferPointer {
            ScoreMapStatistics.templateSimilarity(template: $0, search: search, channels: model.featureChannels, scoreSize: S, cell: best)
        }
        let confidence = calibration.confidence(peakProbability: raw, psr: psr, similarity: similarity)
        let state: TrackingState = confidence >= parameters.trackingThreshold ? .tracking
            : (confidence < parameters.lostThreshold ? .lost : .uncertain)
        return TrackingResult(box: box, rawScore: raw, confidence: confidence, state: state,
                              peakToSidelobeRatio: psr, templateSimilarity: similarity)
    }
}

extension NanoTracker: ResumableTracker {
    /// The target's centre and size: all that changes after `initialize` (the template is fixed,
    /// and the OpenCV mode's padding colour is recomputed on every crop that needs it).
    public var resumeState: [Double] { [cx, cy, w, h] }

    public func restore(resumeState s: [Double]) throws {
        guard initialized else { throw TrackingError("restore called before initialize") }
        guard s.count == 4, s.allSatisfy(\.isFinite), s[2] > 0, s[3] > 0 else {
            throw TrackingError("a NanoTrack state is 4 finite numbers cx, cy, w > 0, h > 0; got \(s)")
        }
        (cx, cy, w, h) = (s[0], s[1], s[2], s[3])
    }
}
