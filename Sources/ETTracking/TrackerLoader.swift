import ETCore
import Foundation

/// Options shared by every way of building a tracker from a model reference.
public struct TrackerOptions: Sendable {
    /// Threads for the network (1 is the default and usually the fastest per tracker).
    public var threads: Int = 1
    /// NanoTrack mode; nil picks the model's default (OpenCV-compatible for v1/v2, corrected for v3).
    public var nanoTrackMode: NanoTrackParameters.Mode? = nil

    public init(threads: Int = 1, nanoTrackMode: NanoTrackParameters.Mode? = nil) {
        self.threads = threads
        self.nanoTrackMode = nanoTrackMode
    }
}

/// Turns a model reference given by a user (a NanoTrack folder with backbone.onnx + head.onnx)
/// into a factory of independent trackers that share one loaded model.
public enum TrackerLoader {
    /// Loads the model once and returns a closure that makes a fresh tracker per sequence.
    /// - Throws: a message naming the path when the model cannot be read.
    public static func load(model: String, options: TrackerOptions = TrackerOptions()) throws -> @Sendable () -> any SingleObjectTracker {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDir) else {
            throw TrackingError("model '\(model)' does not exist (give a NanoTrack folder holding backbone.onnx and head.onnx)")
        }
        guard isDir.boolValue else {
            throw TrackingError("model '\(model)' is a file; NanoTrack models are folders holding backbone.onnx and head.onnx")
        }
        let nano = try NanoTrackModel(directory: model)
        var parameters = NanoTrackParameters.default(for: nano.version)
        if let mode = options.nanoTrackMode {
            parameters = mode == .openCVCompatible ? .openCVCompatible : .corrected(for: nano.version)
        }
        if nano.version == .v3 && parameters.mode == .openCVCompatible {
            // OpenCV itself cannot run v3 (15x15 head); the compatible arithmetic still applies.
        }
        let pool = ThreadPool(threads: options.threads)
        let p = parameters
        // Building a tracker only plans buffers; it cannot fail once the model loaded and planned here.
        _ = try NanoTracker(model: nano, parameters: p, pool: pool)
        return { try! NanoTracker(model: nano, parameters: p, pool: pool) }
    }
}
