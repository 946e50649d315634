import ETData
import ETImage

/// How sure a tracker is that it still follows the target.
public enum TrackingState: String, Sendable, Codable {
    /// The target is followed with good confidence.
    case tracking
    /// The box is reported, but the tracker may be on a distractor or the target is partly hidden.
    case uncertain
    /// The target is not visible in the search region; the box is the last good one.
    case lost
}

/// What `update` returns for one frame.
public struct TrackingResult: Equatable, Sendable {
    /// The box in frame pixels (always finite, width and height >= 0).
    public var box: BoundingBox
    /// The model's own score at the chosen location (its meaning depends on the model).
    public var rawScore: Double
    /// A confidence in [0, 1]: low when the target is gone.
    public var confidence: Double
    public var state: TrackingState
    /// False when the target is lost.
    public var ok: Bool { state != .lost }
    /// Peak-to-sidelobe ratio of the score map at the chosen peak, when the tracker computes it.
    public var peakToSidelobeRatio: Double?
    /// Cosine similarity of template and search features at the chosen peak, when computed.
    public var templateSimilarity: Double?

    public init(box: BoundingBox, rawScore: Double, confidence: Double, state: TrackingState) {
        self.init(box: box, rawScore: rawScore, confidence: confidence, state: state, peakToSidelobeRatio: nil, templateSimilarity: nil)
    }

    public init(box: BoundingBox, rawScore: Double, confidence: Double, state: TrackingState,
                peakToSidelobeRatio: Double?, templateSimilarity: Double?) {
        self.box = box; self.rawScore = rawScore; self.confidence = confidence; self.state = state
        self.peakToSidelobeRatio = peakToSidelobeRatio; self.templateSimilarity = templateSimilarity
    }
}

/// A single-object tracker: initialise on a frame and a box, then update once per frame.
///
/// Thread-safety: a tracker instance holds per-target state and must be confined to one thread
/// at a time. The model it runs may be shared by many trackers (see each tracker's docs).
public protocol SingleObjectTracker: AnyObject {
    /// Starts tracking the object inside `box` on `frame`. Throws on invalid boxes or frames.
    func initialize(frame: Image, box: BoundingBox) throws
    /// Finds the object in the next frame.
    func update(frame: Image) throws -> TrackingResult
}

/// A tracker whose per-target state can be saved after any frame and set again, so that a stopped
/// run resumes exactly: `initialize` on the run's first frame with its box rebuilds the same
/// template, then `restore` puts back the state saved with the last kept frame. Both trackers here
/// never update their template, so this gives the uninterrupted run's boxes byte for byte.
public protocol ResumableTracker: SingleObjectTracker {
    /// The state after the last `initialize` or `update`, as numbers that print exactly.
    var resumeState: [Double] { get }
    /// Sets a state saved by `resumeState` (after `initialize`).
    /// - Throws: `TrackingError` when the values do not fit this tracker.
    func restore(resumeState: [Double]) throws
}

extension TrackingError {
    /// A network produced NaN or infinity: the model file or its input is broken, and no box can
    /// be trusted. Trackers check their networks' outputs every frame (a few hundred values).
    public static func nonFinite(_ what: String, count: Int, of total: Int) -> TrackingError {
        TrackingError("\(what): \(count) of \(total) values are NaN or infinite (is the model file damaged?); no box is reported")
    }

    /// Throws `nonFinite` when `values` holds NaN or infinity.
    public static func checkFinite(_ values: UnsafeBufferPointer<Float>, _ what: @autoclosure () -> String) throws {
        var bad = 0
        for v in values where !v.isFinite { bad += 1 }
        if bad > 0 { throw nonFinite(what(), count: bad, of: values.count) }
    }
}
