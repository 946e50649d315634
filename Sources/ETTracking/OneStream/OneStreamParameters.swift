/// Settings of the one-stream (TrackerVit-family) tracker. Presets: `.openCVCompatible` and
/// `.corrected`.
///
/// ## Score, confidence and state
/// `rawScore` is the peak of the score map times the Hann window (TrackerVit's
/// `getTrackingScore()`). The center head's score is a sigmoid probability (clamped to
/// [1e-4, 1 − 1e-4]), so `confidence` is that value clamped to [0, 1], and the state is
/// - `.lost` below `lostThreshold` (0.20, OpenCV's `tracking_score_threshold`: the box is kept
///   and the next frame searches the old place again, exactly as OpenCV does);
/// - `.uncertain` from 0.20 up to `trackingThreshold` (0.30, where the opencv_zoo demo prints
///   "Target lost");
/// - `.tracking` at or above 0.30.
/// These thresholds are provisional: they are OpenCV's, not fitted to our models. They will be
/// recalibrated per model (as `ConfidenceCalibration` is for NanoTrack) once trained weights exist.
public struct OneStreamParameters: Sendable, Equatable {
    public enum Mode: String, Sendable {
        /// Reproduces `cv2.TrackerVit` of `openCVVersion` box for box: integer boxes, C integer
        /// division in the crop, OSTrack's x2_pad off-by-one in the ROI (which decides when OpenCV
        /// throws; copyMakeBorder then restores the dropped column), black padding, OpenCV's BGR
        /// planes with the statistics in the model's order (so B gets the R mean/std), first
        /// maximum, floor decode; before 5.1 the quaternion-divided scale factors
        /// (`1.0 / Scalar(std)`) and no clamp, from 5.1 `1/(255·std)` and `clipRect(…, 10)`.
        case openCVCompatible = "opencv"
        /// OSTrack's test loop done right: the statistics on the channels they belong to,
        /// Python-style rounding of the crop origin, float boxes, the box clipped to the image
        /// with a margin, a bounded scale change per frame, the last box held while lost.
        case corrected
    }

    public var mode: Mode
    /// The OpenCV release reproduced by `.openCVCompatible` (ignored by `.corrected`): 5.1 scales
    /// each channel by 1/(255·std) and clips the box to the frame with a 10-pixel margin; 5.0 and
    /// 4.11–4.14 use the quaternion-divided scale and never clip (see `OpenCVVersion`).
    public var openCVVersion: OpenCVVersion = .newest
    /// Template crop side = ceil(sqrt(w·h)·templateFactor) (2 in TrackerVit and OSTrack).
    public var templateFactor: Double = 2
    /// Search crop side = ceil(sqrt(w·h)·searchFactor) (4 in TrackerVit and OSTrack).
    public var searchFactor: Double = 4
    /// `rawScore` below which the target is lost and the box is not updated (OpenCV: 0.20).
    public var lostThreshold: Double = 0.20
    /// Confidence at or above which the state is `.tracking` (opencv_zoo demo: 0.30).
    public var trackingThreshold: Double = 0.30
    /// Corrected mode: the box is clipped to the frame with this margin in pixels (OSTrack's
    /// `clip_box(margin=10)`: x1 ∈ [0, W − m], x2 ∈ [m, W], w ≥ m), reduced to the frame size for tiny frames.
    public var clipMargin: Double = 10
    /// Corrected mode: the most width and height may grow or shrink per frame (a factor ≥ 1).
    public var maxScaleChange: Double = 1.4

    /// `cv2.TrackerVit` of the newest supported OpenCV, with its default parameters.
    public static let openCVCompatible = OneStreamParameters(mode: .openCVCompatible)

    /// `cv2.TrackerVit` of `version`, with its default parameters.
    public static func openCVCompatible(version: OpenCVVersion) -> OneStreamParameters {
        var p = OneStreamParameters(mode: .openCVCompatible)
        p.openCVVersion = version
        return p
    }
    /// Our corrected tracker (the default for files with etrack metadata; see `TrackerLoader`).
    public static let corrected = OneStreamParameters(mode: .corrected)

    public init(mode: Mode) { self.mode = mode }
}
