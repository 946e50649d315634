import Foundation

/// Settings of the NanoTrack tracker. Named presets: `.openCVCompatible` (the newest OpenCV),
/// `.openCVCompatible(version:)` and `.corrected(for:)`.
public struct NanoTrackParameters: Sendable, Equatable {
    public enum Mode: String, Sendable {
        /// Reproduces OpenCV's TrackerNano box for box (its constants, integer crops, RGB input,
        /// sqrt window; before 5.1 also its int context sum, integer window ratio and scale-penalty
        /// bug), for the release in `openCVVersion`. The default for v1/v2, which OpenCV runs.
        case openCVCompatible = "opencv"
        /// The original NanoTrack Python tracker: BGR input as in training, the scale-penalty fix,
        /// the product Hann window, per-model hyper-parameters; holds the last box while lost.
        case corrected
    }

    public var mode: Mode
    public var windowInfluence: Float
    public var penaltyK: Float
    public var learningRate: Float
    public var contextAmount: Float = 0.5
    /// The OpenCV release reproduced by `.openCVCompatible` (ignored by `.corrected`).
    public var openCVVersion: OpenCVVersion = .newest
    /// Confidence at or above which the state is `.tracking`.
    public var trackingThreshold: Double = 0.5
    /// Confidence below which the state is `.lost`.
    public var lostThreshold: Double = 0.2
    /// How the confidence is computed from the score map; nil picks the model's own calibration.
    public var calibration: ConfidenceCalibration? = nil

    /// OpenCV's hard-coded constants (0.455 / 0.055 / 0.37), whatever the model, as the newest
    /// supported OpenCV computes them.
    public static let openCVCompatible = openCVCompatible(version: .newest)

    /// OpenCV's TrackerNano as `version` computes it.
    public static func openCVCompatible(version: OpenCVVersion) -> NanoTrackParameters {
        var p = NanoTrackParameters(mode: .openCVCompatible, windowInfluence: 0.455, penaltyK: 0.055, learningRate: 0.37)
        p.openCVVersion = version
        return p
    }

    /// The training-yaml hyper-parameters of each published model.
    public static func corrected(for version: NanoTrackModel.Version) -> NanoTrackParameters {
        switch version {
        case .v1: return NanoTrackParameters(mode: .corrected, windowInfluence: 0.462, penaltyK: 0.148, learningRate: 0.390)
        case .v2, .unknown: return NanoTrackParameters(mode: .corrected, windowInfluence: 0.490, penaltyK: 0.150, learningRate: 0.385)
        case .v3: return NanoTrackParameters(mode: .corrected, windowInfluence: 0.455, penaltyK: 0.138, learningRate: 0.348)
        }
    }

    /// The default for a model: OpenCV-compatible for v1/v2, corrected for v3 (OpenCV cannot run v3).
    public static func `default`(for version: NanoTrackModel.Version) -> NanoTrackParameters {
        version == .v3 ? corrected(for: .v3) : openCVCompatible
    }

    public init(mode: Mode, windowInfluence: Float, penaltyK: Float, learningRate: Float) {
        self.mode = mode; self.windowInfluence = windowInfluence; self.penaltyK = penaltyK; self.learningRate = learningRate
    }
}

/// A logistic model of "the target is present" from three per-frame signals:
/// `confidence = σ(a·logit(p) + b·ln(max(PSR, 0.1)) + c·similarity + d)`, where p is the peak
/// foreground probability, PSR the score map's peak-to-sidelobe ratio, and similarity the
/// cosine similarity of template and search features at the peak.
///
/// The built-in coefficients were fitted (balanced logistic regression,
/// `scripts/calibration/fit_confidence.py`) on the first halves of 8 shared sequences (present)
/// against their second halves made black, with the target painted out, or cropped out of view
/// (absent). In-sample lost-vs-present ROC AUC: v1 0.95, v2 0.97, v3 0.99 (the probability alone:
/// 0.95 / 0.95–0.96 / 0.96–0.97, and it never drops below ~0.3 on black frames). At the default
/// thresholds black frames are 100% `.lost`, painted-out targets 82–93%, targets cropped out of
/// view 49–65% (a distractor often gives a sharp, similar-looking peak); 1–6% of present frames
/// are `.lost`. The OpenCV-compatible mode has one set per OpenCV behaviour (5.1 tracks
/// differently); with 5.1's (`--opencv-version 5.1`, AUC v1 0.951, v2 0.978, v3 0.990) painted-out
/// targets are 86–90% `.lost` and targets cropped out of view 53–70%, 1–4% of present frames.
public struct ConfidenceCalibration: Sendable, Equatable, Codable {
    public var logitWeight: Double
    public var logPSRWeight: Double
    public var similarityWeight: Double
    public var bias: Double

    public init(logitWeight: Double, logPSRWeight: Double, similarityWeight: Double, bias: Double) {
        self.logitWeight = logitWeight; self.logPSRWeight = logPSRWeight; self.similarityWeight = similarityWeight; self.bias = bias
    }

    public func confidence(peakProbability p: Double, psr: Double, similarity: Double) -> Double {
        guard p.isFinite, psr.isFinite, similarity.isFinite else { return 0 }
        let q = min(max(p, 1e-6), 1 - 1e-6)
        let logit = min(10, max(-10, Foundation.log(q / (1 - q))))
        let z = logitWeight * logit + logPSRWeight * Foundation.log(max(psr, 0.1)) + similarityWeight * similarity + bias
        return 1 / (1 + Foundation.exp(-z))
    }

    /// Fitted coefficients per published model and mode, and for the OpenCV-compatible mode per
    /// OpenCV behaviour, whose boxes (and so signals) differ (`scripts/calibration/fit_confidence.py
    /// --modes opencv --opencv-version 5.1`; in-sample ROC AUC v1 0.951, v2 0.978, v3 0.990).
    public static func builtIn(for version: NanoTrackModel.Version, mode: NanoTrackParameters.Mode,
                               openCV: OpenCVVersion = .newest) -> ConfidenceCalibration {
        if mode == .openCVCompatible && openCV.behaviour >= .v5_1 {
            switch version {
            case .v1: return .init(logitWeight: 0.6815, logPSRWeight: -0.1189, similarityWeight: 3.5231, bias: -3.2245)
            case .v3: return .init(logitWeight: -0.1104, logPSRWeight: 0.5377, similarityWeight: 17.5078, bias: -10.2448)
            case .v2, .unknown: return .init(logitWeight: 0.262, logPSRWeight: 0.7639, similarityWeight: 13.0216, bias: -8.6827)
            }
        }
        switch (version, mode) {
        case (.v1, .openCVCompatible): return .init(logitWeight: 0.7492, logPSRWeight: 0.0857, similarityWeight: 0.7477, bias: -2.7593)
        case (.v1, .corrected): return .init(logitWeight: 0.6594, logPSRWeight: -0.1283, similarityWeight: 2.5934, bias: -2.7076)
        case (.v3, .openCVCompatible): return .init(logitWeight: -0.2036, logPSRWeight: 0.329, similarityWeight: 21.5352, bias: -11.2577)
        case (.v3, .corrected): return .init(logitWeight: -0.0537, logPSRWeight: 0.6667, similarityWeight: 12.0908, bias: -8.1551)
        case (_, .openCVCompatible): return .init(logitWeight: 0.2385, logPSRWeight: 0.771, similarityWeight: 11.5849, bias: -7.8026)
        case (_, .corrected): return .init(logitWeight: 0.3024, logPSRWeight: 0.4084, similarityWeight: 10.0473, bias: -6.2168)
        }
    }
}
