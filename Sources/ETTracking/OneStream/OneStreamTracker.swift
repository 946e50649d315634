import ETData
import ETCore
import ETImage
import ETONNX
import Foundation

/// The one-stream tracker of the TrackerVit / OSTrack family: one network sees the template crop
/// (bound once at `initialize`) and a search crop around the last box on every frame, and its
/// center head gives a score map, a size map and an offset map.
///
/// Two modes (see `OneStreamParameters.Mode`):
/// - `.openCVCompatible` reproduces `cv2.TrackerVit` of `parameters.openCVVersion` exactly,
///   quirks included (integer boxes, truncating C division, the x2_pad off-by-one, BGR planes
///   normalised with the statistics in the model's order, floor decode; before 5.1 the
///   quaternion-divided scale factors and no clamp, from 5.1 per-channel factors and a clip to the
///   frame). Where OpenCV would throw (the search window has left the frame, or the box has shrunk
///   to nothing; only before 5.1) this throws a `TrackingError` instead.
/// - `.corrected` is our tracker: float boxes, the statistics on the right channels, the box
///   clipped to the frame with a margin, a bounded scale change per frame, and the last box
///   held while the target is lost. It never throws on a frame once initialised.
///
/// `update` returns the box, `rawScore` (the windowed peak, TrackerVit's tracking score),
/// `confidence` in [0, 1] and `state`; see `OneStreamParameters` for the thresholds.
///
/// Thread-safety: one tracker per thread; trackers may share one `OneStreamModel`. Crops and
/// network buffers are planned at construction.
public final class OneStreamTracker: SingleObjectTracker {
    public let model: OneStreamModel
    public let parameters: OneStreamParameters

    private let plan: ExecutionPlan
    private var templateCrop: Image
    private var searchCrop: Image
    private let window: [Float]
    private var windowed: [Float]
    private let channelOrder: ImageOps.ChannelOrder
    private let subtract: [Double]
    private let multiply: [Double]

    // OpenCV-compatible state: TrackerVit's integer rect_last.
    private var rect = (x: 0, y: 0, w: 0, h: 0)
    // Corrected state: the float box.
    private var box = BoundingBox(x: 0, y: 0, width: 0, height: 0)
    private var initialized = false

    /// The windowed score map of the last update (scoreSize² values, row-major).
    public var lastScoreMap: [Float] { windowed }

    /// Creates a tracker on a shared model (plans its buffers; cheap).
    /// - Parameters:
    ///   - parameters: `.openCVCompatible` (default, as `cv2.TrackerVit`) or `.corrected`.
    ///   - pool: Threads for the network (one by default).
    public init(model: OneStreamModel, parameters: OneStreamParameters = .openCVCompatible, pool: ThreadPool = .serial) throws {
        self.model = model
        self.parameters = parameters
        // The template is static: the steps that depend on it alone (its patch embedding) run once
        // per `initialize`, not on every frame.
        plan = try ExecutionPlan(model: model.onnx, inputShapes: ["template": [1, 3, model.templateSize, model.templateSize],
                                                                  "search": [1, 3, model.searchSize, model.searchSize]],
                                 staticInputs: ["template"], pool: pool)
        templateCrop = Image(width: model.templateSize, height: model.templateSize)
        searchCrop = Image(width: model.searchSize, height: model.searchSize)
        // Centered Hann, np.hanning(M + 2)[1:-1]: no zeros at the border; 2-D = outer product.
        let M = model.scoreSize
        let hann = (0..<M).map { Float(0.5 * (1 - cos(2 * Double.pi * Double($0 + 1) / Double(M + 1)))) }
        window = (0..<(M * M)).map { hann[$0 / M] * hann[$0 % M] }
        windowed = [Float](repeating: 0, count: M * M)
        let pre = model.preprocessing
        switch parameters.mode {
        case .openCVCompatible:
            // OpenCV feeds its BGR frame as is (swapRB false) with the statistics in the order
            // given, so plane 0 = B gets mean[0]/std[0] (R's for ImageNet). Our frames are RGB:
            // reversing them gives OpenCV's planes.
            channelOrder = .bgr
            guard parameters.openCVVersion.supportsTrackerVit else {
                throw TrackingError("OpenCV \(parameters.openCVVersion)'s TrackerVit is an older algorithm that is not reproduced; supported for TrackerVit: 5.1, 5.0, 4.11-4.14")
            }
            (subtract, multiply) = Self.openCVBlobParameters(mean: pre.mean, std: pre.std, version: parameters.openCVVersion)
        case .corrected:
            channelOrder = pre.colorOrder == .rgb ? .rgb : .bgr
            // The documented normalisation: (p − 255·m) / (255·s) per channel.
            subtract = pre.mean.map { $0 * 255 }
            multiply = pre.std.map { 1 / ($0 * 255) }
        }
    }

    /// The per-plane (subtract, multiply) that `cv2.TrackerVit` passes to
    /// `blobFromImageWithParams`: `mean = meanvalue * 255.0` and, from OpenCV 5.1,
    /// `scalefactor = 1 / (255.0 * stdvalue[c])` per channel; before 5.1
    /// `scalefactor = (1.0 / stdvalue) * (1 / 255.0)`, in OpenCV's double arithmetic.
    ///
    /// OpenCV bug before 5.1: `1.0 / stdvalue` with a `cv::Scalar` is quaternion division, not an elementwise
    /// reciprocal: `a / s = conj(s) · (a / |s|²)` with conj(s) = (s0, −s1, −s2, −s3) and the fourth
    /// component 0. For ImageNet's std (0.229, 0.224, 0.225) the multipliers are
    /// (+1.49437, −1.46174, −1.46827)/255 instead of (4.36681, 4.46429, 4.44444)/255: plane 0 is
    /// scaled by 0.342 of the documented factor, planes 1 and 2 by −0.327 and −0.330 (sign flipped).
    /// The mean is elementwise (`Scalar * double`), as documented. Measured through cv2.TrackerVit
    /// by `scripts/reference/trackervit_normalisation.py`.
    static func openCVBlobParameters(mean: [Double], std: [Double], version: OpenCVVersion) -> (subtract: [Double], multiply: [Double]) {
        if version.trackerVitClipsAndScalesPerChannel {
            return (mean.map { $0 * 255.0 }, std.map { 1.0 / (255.0 * $0) })
        }
        let s = (0..<4).map { $0 < std.count ? std[$0] : 0 }  // Scalar: missing components are 0
        let inverseNorm = 1.0 / (s[0] * s[0] + s[1] * s[1] + s[2] * s[2] + s[3] * s[3])
        let conjugate = [s[0], -s[1], -s[2], -s[3]]
        let multiply = std.indices.map { conjugate[$0] * inverseNorm * (1 / 255.0) }
        return (mean.map { $0 * 255.0 }, multiply)
    }

    /// Convenience: loads the model from an `.onnx` file and makes one tracker.
    public convenience init(modelPath: String, parameters: OneStreamParameters = .openCVCompatible) throws {
        try self.init(model: OneStreamModel(path: modelPath), parameters: parameters)
    }

    private func checkFrame(_ frame: Image) throws {
        guard frame.width > 0, frame.height > 0 else { throw TrackingError("empty frame (\(frame.width)x\(frame.height))") }
        guard frame.channels == 3 else { throw TrackingError("frames must have 3 channels (RGB), got \(frame.channels)") }
    }

    // MARK: initialize

    public func initialize(frame: Image, box initBox: BoundingBox) throws {
        try checkFrame(frame)
        try initBox.validate(frameWidth: frame.width, frameHeight: frame.height)
        initialized = false
        switch parameters.mode {
        case .openCVCompatible:
            // OpenCV takes an integer Rect (the Python binding truncates).
            let r = (x: Int(initBox.x), y: Int(initBox.y), w: Int(initBox.width), h: Int(initBox.height))
            guard r.w > 0, r.h > 0 else {
                throw TrackingError("box \(initBox) is smaller than one pixel; OpenCV-compatible mode needs integer sizes >= 1")
            }
            _ = try openCVCrop(frame, rect: r, factor: parameters.templateFactor, into: &templateCrop)
            rect = r
        case .corrected:
            _ = try correctedCrop(frame, box: initBox, factor: parameters.templateFactor, into: &templateCrop)
            box = initBox
        }
        normalise(templateCrop, into: "template")
        initialized = true
    }

    // MARK: crops

    /// TrackerVit's `crop_image` + `resize`: returns the crop side (used by the decode).
    /// - Throws: where OpenCV would throw (empty ROI: the window lies off the frame, or the box is empty).
    private func openCVCrop(_ frame: Image, rect r: (x: Int, y: Int, w: Int, h: Int), factor: Double, into out: inout Image) throws -> Int {
        let W = frame.width, H = frame.height
        let (area, overflow) = r.w.multipliedReportingOverflow(by: r.h)
        guard r.w > 0, r.h > 0, !overflow else {
            throw TrackingError("OpenCV-compatible: the box \(r.x),\(r.y),\(r.w),\(r.h) is empty; cv2.TrackerVit would fail here")
        }
        let side = (Double(area).squareRoot() * factor).rounded(.up)
        guard side >= 1, side < 1e7 else {
            throw TrackingError("OpenCV-compatible: crop side \(side) for box \(r.x),\(r.y),\(r.w),\(r.h) is unusable")
        }
        let crop = Int(side)
        // C integer division truncates toward zero, as Swift's does.
        let x1 = r.x + (r.w - crop) / 2, y1 = r.y + (r.h - crop) / 2
        let x2 = x1 + crop, y2 = y1 + crop
        let x1pad = max(0, -x1), y1pad = max(0, -y1)
        // OSTrack's off-by-one: one padding column/row too many at the right/bottom edge.
        let x2pad = max(x2 - W + 1, 0), y2pad = max(y2 - H + 1, 0)
        let roiW = crop - x1pad - x2pad, roiH = crop - y1pad - y2pad
        let black: [UInt8] = [0, 0, 0]
        if roiW == 0 || roiH == 0 {
            // An empty ROI: copyMakeBorder of an empty Mat gives an all-black
            // (y1_pad + y2_pad) × (x1_pad + x2_pad) image, which resize accepts unless it is empty.
            guard x1pad + x2pad > 0, y1pad + y2pad > 0 else { throw offFrame(crop, x1, y1, r, W, H) }
            out.pixels.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return crop
        }
        guard roiW > 0, roiH > 0 else { throw offFrame(crop, x1, y1, r, W, H) }
        // copyMakeBorder on a sub-matrix without BORDER_ISOLATED takes border pixels from the
        // parent image where it has them, so the column/row the x2_pad/y2_pad off-by-one leaves
        // out of the ROI comes back (verified against cv2 5.0): the padded crop is the window
        // over the frame with zeros outside it, which cropResize computes without copying.
        out.pixels.withUnsafeMutableBufferPointer { o in
            ImageOps.cropResize(frame, x: x1, y: y1, width: crop, height: crop, padding: black,
                                outWidth: out.width, outHeight: out.height, into: o.baseAddress!)
        }
        return crop
    }

    private func offFrame(_ crop: Int, _ x1: Int, _ y1: Int, _ r: (x: Int, y: Int, w: Int, h: Int), _ W: Int, _ H: Int) -> TrackingError {
        TrackingError("OpenCV-compatible: the \(crop)x\(crop) window at (\(x1), \(y1)) around box \(r.x),\(r.y),\(r.w),\(r.h) has no pixel inside the \(W)x\(H) frame; cv2.TrackerVit throws here (use the corrected mode to keep tracking)")
    }

    /// OSTrack's `sample_target` without the off-by-one: side = ceil(sqrt(w·h)·factor), origin
    /// rounded half to even as Python's `round`, black outside the frame. Returns side and origin.
    private func correctedCrop(_ frame: Image, box b: BoundingBox, factor: Double, into out: inout Image) throws -> (side: Int, x: Int, y: Int) {
        let s = ((b.width * b.height).squareRoot() * factor).rounded(.up)
        guard s.isFinite, s >= 1, s < 1e7 else { throw TrackingError("box \(b) gives an unusable crop side \(s)") }
        let side = Int(s)
        let x = Int((b.x + 0.5 * b.width - 0.5 * Double(side)).rounded(.toNearestOrEven))
        let y = Int((b.y + 0.5 * b.height - 0.5 * Double(side)).rounded(.toNearestOrEven))
        let black: [UInt8] = [0, 0, 0]
        out.pixels.withUnsafeMutableBufferPointer { o in
            ImageOps.cropResize(frame, x: x, y: y, width: side, height: side, padding: black,
                                outWidth: out.width, outHeight: out.height, into: o.baseAddress!)
        }
        return (side, x, y)
    }

    /// (p − subtract) · multiply per plane in Float, bit-exact with `blobFromImageWithParams`:
    /// (p − 255·m) / (255·s) in corrected mode, cv2.TrackerVit's factors in OpenCV-compatible mode.
    private func normalise(_ crop: Image, into input: String) {
        ImageOps.toPlanar(crop, into: plan.inputBuffer(input).baseAddress!, channelOrder: channelOrder,
                          subtracting: subtract, multiplyingBy: multiply)
    }

    // MARK: update

    public func update(frame: Image) throws -> TrackingResult {
        guard initialized else { throw TrackingError("update called before initialize") }
        try checkFrame(frame)
        switch parameters.mode {
        case .openCVCompatible: return try updateOpenCV(frame)
        case .corrected: return try updateCorrected(frame)
        }
    }

    /// Runs the network on the normalised search crop and returns the first maximum of the
    /// windowed score map (cell index, value); NaN scores never win.
    private func runAndFindPeak() throws -> (best: Int, score: Float) {
        plan.run()
        let score = plan.outputBuffer("output1")
        // NaN never wins the peak search below, so a broken network would otherwise pass as "lost".
        try TrackingError.checkFinite(score, "the network's score map 'output1'")
        try TrackingError.checkFinite(plan.outputBuffer("output2"), "the network's size map 'output2'")
        try TrackingError.checkFinite(plan.outputBuffer("output3"), "the network's offset map 'output3'")
        var best = -1, top = -Float.infinity
        for k in 0..<windowed.count {
            let v = score[k] * window[k]
            windowed[k] = v
            if v > top { top = v; best = k }  // strict: the first maximum in row-major order
        }
        return best < 0 ? (0, .nan) : (best, top)
    }

    private func currentBox() -> BoundingBox {
        switch parameters.mode {
        case .openCVCompatible: return BoundingBox(x: Double(rect.x), y: Double(rect.y), width: Double(rect.w), height: Double(rect.h))
        case .corrected: return box
        }
    }

    /// TrackerVit::update: crop ×4 around rect_last, run, windowed peak, threshold, floor decode.
    private func updateOpenCV(_ frame: Image) throws -> TrackingResult {
        let crop = try openCVCrop(frame, rect: rect, factor: parameters.searchFactor, into: &searchCrop)
        normalise(searchCrop, into: "search")
        let (best, score) = try runAndFindPeak()
        guard score.isFinite, Double(score) >= parameters.lostThreshold else {
            return result(best: best, score: score, box: currentBox(), forceLost: true)
        }
        let M = model.scoreSize, n = M * M
        let row = best / M, col = best % M
        let size = plan.outputBuffer("output2"), offset = plan.outputBuffer("output3")
        // All in Float, as OpenCV: cx = (col + dx)/16, box corner = cx − w/2 in crop fractions.
        let cx = (Float(col) + offset[best]) / Float(M), cy = (Float(row) + offset[n + best]) / Float(M)
        let w = size[best], h = size[n + best]
        let x0 = rect.x + (rect.w - crop) / 2, y0 = rect.y + (rect.h - crop) / 2
        let fx = ((cx - w / 2) * Float(crop) + Float(x0)).rounded(.down)
        let fy = ((cy - h / 2) * Float(crop) + Float(y0)).rounded(.down)
        let fw = (w * Float(crop)).rounded(.down), fh = (h * Float(crop)).rounded(.down)
        guard let nx = Int(exactly: fx), let ny = Int(exactly: fy), let nw = Int(exactly: fw), let nh = Int(exactly: fh),
              abs(nx) < 1 << 30, abs(ny) < 1 << 30, abs(nw) < 1 << 30, abs(nh) < 1 << 30 else {
            // OpenCV would store garbage (cvFloor of NaN/inf); keep the box and report lost.
            return result(best: best, score: score, box: currentBox(), forceLost: true)
        }
        rect = (nx, ny, nw, nh)
        if parameters.openCVVersion.trackerVitClipsAndScalesPerChannel { rect = Self.clipRect(rect, frame.width, frame.height, margin: 10) }
        return result(best: best, score: score, box: currentBox(), forceLost: false)
    }

    /// OpenCV 5.1's `clipRect` in C int arithmetic: x1 ∈ [0, W − m], x2 ∈ [m, W], sides ≥ m,
    /// with m at most the frame side. (|values| < 2³⁰ here, so x + w cannot overflow as in C.)
    static func clipRect(_ r: (x: Int, y: Int, w: Int, h: Int), _ W: Int, _ H: Int, margin: Int) -> (x: Int, y: Int, w: Int, h: Int) {
        let mx = min(margin, W), my = min(margin, H)
        let x1 = min(max(0, r.x), W - mx), y1 = min(max(0, r.y), H - my)
        let x2 = min(max(mx, r.x + r.w), W), y2 = min(max(my, r.y + r.h), H)
        return (x1, y1, max(mx, x2 - x1), max(my, y2 - y1))
    }

    /// OSTrack's decode with the real crop origin, a bounded scale step and a clip to the frame.
    private func updateCorrected(_ frame: Image) throws -> TrackingResult {
        let (side, ox, oy) = try correctedCrop(frame, box: box, factor: parameters.searchFactor, into: &searchCrop)
        normalise(searchCrop, into: "search")
        let (best, score) = try runAndFindPeak()
        guard score.isFinite, Double(score) >= parameters.lostThreshold else {
            return result(best: best, score: score, box: box, forceLost: true)
        }
        let M = model.scoreSize, n = M * M
        let size = plan.outputBuffer("output2"), offset = plan.outputBuffer("output3")
        let dx = Double(offset[best]), dy = Double(offset[n + best])
        let fw = Double(size[best]), fh = Double(size[n + best])
        guard dx.isFinite, dy.isFinite, fw.isFinite, fh.isFinite, fw > 0, fh > 0 else {
            return result(best: best, score: score, box: box, forceLost: true)
        }
        let s = Double(side)
        let cx = Double(ox) + (Double(best % M) + dx) / Double(M) * s
        let cy = Double(oy) + (Double(best / M) + dy) / Double(M) * s
        let k = max(1, parameters.maxScaleChange)
        let w = min(max(fw * s, box.width / k), box.width * k)
        let h = min(max(fh * s, box.height / k), box.height * k)
        // clip_box: x1 ∈ [0, W − m], x2 ∈ [m, W], width ≥ m (m at most the frame side).
        let W = Double(frame.width), H = Double(frame.height)
        let mx = min(parameters.clipMargin, W), my = min(parameters.clipMargin, H)
        let x1 = min(max(0, cx - w / 2), W - mx), x2 = min(max(mx, cx + w / 2), W)
        let y1 = min(max(0, cy - h / 2), H - my), y2 = min(max(my, cy + h / 2), H)
        box = BoundingBox(x: x1, y: y1, width: max(mx, x2 - x1), height: max(my, y2 - y1))
        return result(best: best, score: score, box: box, forceLost: false)
    }

    private func result(best: Int, score: Float, box: BoundingBox, forceLost: Bool) -> TrackingResult {
        let raw = Double(score)
        let confidence = raw.isFinite ? min(1, max(0, raw)) : 0
        let state: TrackingState = forceLost || confidence < parameters.lostThreshold ? .lost
            : (confidence >= parameters.trackingThreshold ? .tracking : .uncertain)
        let psr = windowed.withUnsafeBufferPointer { ScoreMapStatistics.peakToSidelobeRatio($0, size: model.scoreSize, peak: best) }
        return TrackingResult(box: box, rawScore: raw, confidence: confidence, state: state,
                              peakToSidelobeRatio: psr.isFinite ? psr : nil, templateSimilarity: nil)
    }
}

extension OneStreamTracker: ResumableTracker {
    /// The tracker's box: the integer rectangle of the OpenCV mode and the box of the corrected
    /// mode (the template, set by `initialize`, never changes).
    public var resumeState: [Double] { [Double(rect.x), Double(rect.y), Double(rect.w), Double(rect.h), box.x, box.y, box.width, box.height] }

    public func restore(resumeState s: [Double]) throws {
        guard initialized else { throw TrackingError("restore called before initialize") }
        guard s.count == 8, s.allSatisfy(\.isFinite), s[0..<4].allSatisfy({ $0 == $0.rounded() && abs($0) < 1_073_741_824 }) else {
            throw TrackingError("a one-stream state is 4 integers and 4 finite numbers; got \(s)")
        }
        rect = (Int(s[0]), Int(s[1]), Int(s[2]), Int(s[3]))
        box = BoundingBox(x: s[4], y: s[5], width: s[6], height: s[7])
    }
}
