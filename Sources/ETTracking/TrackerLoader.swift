import ETCore

/// Options shared by every way of building a tracker from a model reference.
public struct TrackerOptions: Sendable {
    /// Threads for the network (1 is the default and usually the fastest per tracker).
    public var threads: Int = 1
    public init(threads: Int = 1) { self.threads = threads }
}

/// Turns a model reference given by a user (a NanoTrack folder, later a named model or an ONNX
/// file) into a factory of independent trackers that share one loaded model.
public enum TrackerLoader {
    /// Loads the model once and returns a closure that makes a fresh tracker per sequence.
    /// - Throws: a message naming the path when the model cannot be read.
    public static func load(model: String, options: TrackerOptions = TrackerOptions()) throws -> @Sendable () -> any SingleObjectTracker {
        throw EngineError("no tracker can load '\(model)' yet")
    }
}
