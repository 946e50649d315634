/// Settings of the NanoTrack tracker. Named presets: `.openCVCompatible` and `.corrected(for:)`.
public struct NanoTrackParameters: Sendable, Equatable {
    public enum Mode: String, Sendable {
        /// Reproduces OpenCV's TrackerNano box for box (its constants, integer crops, RGB input,
        /// sqrt window, scale-penalty bug). The default for v1/v2, which OpenCV runs.
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
    /// Confidence at or above which the state is `.tracking`.
    public var trackingThreshold: Double = 0.5
    /// Confidence below which the state is `.lost`.
    public var lostThreshold: Double = 0.25

    /// OpenCV's hard-coded constants (0.455 / 0.055 / 0.37), whatever the model.
    public static let openCVCompatible = NanoTrackParameters(mode: .openCVCompatible, windowInfluence: 0.455, penaltyK: 0.055, learningRate: 0.37)

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
