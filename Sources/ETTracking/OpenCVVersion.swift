import Foundation

/// The OpenCV release whose `TrackerNano` / `TrackerVit` behaviour an OpenCV-compatible tracker
/// reproduces, box for box.
///
/// OpenCV changed both trackers in 5.1; every release users run behaves like one of two:
///
/// | behaviour | releases whose tracker sources are identical | boxes measured against |
/// |---|---|---|
/// | `.v5_1` | 5.1 | opencv-python-headless 5.1.0.95 |
/// | `.v5_0` | 5.0; 4.7–4.14 for TrackerNano, 4.11–4.14 for TrackerVit | 5.0.0.93 and 4.14.0.94 |
///
/// TrackerVit of 4.9 and 4.10 is a different, older algorithm (no score threshold, another crop
/// side and normalisation); it is not reproduced and `OneStreamTracker` refuses those versions.
///
/// What 5.1 changed (docs/trackers/opencv-versions.md has the measurements):
/// - TrackerNano: the context sum of the search window is `float` (was `int`), the search-window
///   ratio is `255f/127` (was the integer 2), and the scale penalty divides by the scaled target
///   size (was the target's centre coordinates, upstream issue #27190).
/// - TrackerVit: the input scale is `1/(255·std)` per channel (was the quaternion quotient
///   `1.0 / Scalar(std)`), and the box is clipped to the frame with a 10-pixel margin after each
///   update (`clipRect`), in the tracker's state too, so the next crop follows the clipped box.
public struct OpenCVVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    /// OpenCV 5.1: the fixed TrackerNano arithmetic and TrackerVit's clip and per-channel scale.
    public static let v5_1 = OpenCVVersion(major: 5, minor: 1)
    /// OpenCV 5.0: the tracker code of the 4.x line too (see the table above).
    public static let v5_0 = OpenCVVersion(major: 5, minor: 0)
    /// The newest release supported: the default of every OpenCV-compatible mode.
    public static let newest = v5_1

    /// Every release whose TrackerNano behaviour is reproduced, newest first (TrackerNano first
    /// shipped in 4.7). `supportsTrackerVit` narrows it for TrackerVit.
    public static let supported: [OpenCVVersion] =
        [v5_1, v5_0] + (7...14).reversed().map { OpenCVVersion(major: 4, minor: $0) }

    init(major: Int, minor: Int) { self.major = major; self.minor = minor }

    /// Parses "5.1", "5.1.0" or a pip version such as "5.1.0.95"; only the first two numbers count.
    /// - Throws: `TrackingError` naming the text and the supported releases.
    public init(_ text: String) throws {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, let major = Int(parts[0]), let minor = Int(parts[1]),
              parts.dropFirst(2).allSatisfy({ Int($0) != nil }) else {
            throw TrackingError("OpenCV version '\(text)' is not MAJOR.MINOR (for example 5.1); supported: \(Self.supportedList)")
        }
        let version = OpenCVVersion(major: major, minor: minor)
        guard Self.supported.contains(version) else {
            throw TrackingError("OpenCV \(major).\(minor) is not supported; supported: \(Self.supportedList)")
        }
        self = version
    }

    /// The release whose tracker code this one shares (5.1 or 5.0).
    public var behaviour: OpenCVVersion { self >= .v5_1 ? .v5_1 : .v5_0 }

    /// Whether this release's TrackerVit is the one reproduced (4.11 and later; 4.9/4.10 differ).
    public var supportsTrackerVit: Bool { self >= OpenCVVersion(major: 4, minor: 11) }

    /// TrackerNano in Float throughout and the scale penalty on the target size (5.1 and later).
    var nanoTrackHasFloatSearchWindow: Bool { self >= .v5_1 }
    /// TrackerVit with `1/(255·std)` per channel and `clipRect(rect, size, 10)` (5.1 and later).
    var trackerVitClipsAndScalesPerChannel: Bool { self >= .v5_1 }

    public var description: String { "\(major).\(minor)" }

    static var supportedList: String {
        "5.1 (the default), 5.0, and 4.7-4.14 (the tracker code of 5.0; TrackerVit from 4.11)"
    }

    public static func < (a: OpenCVVersion, b: OpenCVVersion) -> Bool { (a.major, a.minor) < (b.major, b.minor) }
}
