import ETCore
import ETNN
import ETONNX
import Foundation

/// Options shared by every way of building a tracker from a model reference.
public struct TrackerOptions: Sendable {
    /// Threads for the network (1 is the default and usually the fastest per tracker).
    public var threads: Int = 1
    /// NanoTrack mode; nil picks the model's default (OpenCV-compatible for v1/v2, corrected for v3).
    public var nanoTrackMode: NanoTrackParameters.Mode? = nil
    /// One-stream (`.onnx`) mode; nil takes `nanoTrackMode`'s choice when given (the CLI's
    /// `--mode opencv|corrected` sets that one), else the model's default: corrected for files
    /// with `etrack.*` metadata, OpenCV-compatible for files without (OpenCV-zoo style).
    public var oneStreamMode: OneStreamParameters.Mode? = nil
    /// Overrides a one-stream model's mean/std/colour order (metadata or TrackerVit defaults).
    public var oneStreamPreprocessing: OneStreamPreprocessing? = nil
    /// The OpenCV release the OpenCV-compatible modes reproduce; nil is the newest supported.
    /// Giving one for a tracker that ends up in the corrected mode is an error, not ignored.
    public var openCVVersion: OpenCVVersion? = nil

    public init(threads: Int = 1, nanoTrackMode: NanoTrackParameters.Mode? = nil,
                oneStreamMode: OneStreamParameters.Mode? = nil, oneStreamPreprocessing: OneStreamPreprocessing? = nil,
                openCVVersion: OpenCVVersion? = nil) {
        self.threads = threads
        self.nanoTrackMode = nanoTrackMode
        self.oneStreamMode = oneStreamMode
        self.oneStreamPreprocessing = oneStreamPreprocessing
        self.openCVVersion = openCVVersion
    }

    /// Checks that a requested OpenCV version applies to the mode the model ended up in.
    func checkOpenCVVersion(appliesTo openCVMode: Bool, model: String) throws {
        if let v = openCVVersion, !openCVMode {
            throw TrackingError("--opencv-version \(v) applies to the OpenCV-compatible mode, but \(model) runs in the corrected mode; add --mode opencv")
        }
    }
}

/// Turns a model reference given by a user into a factory of independent trackers that share one
/// loaded model:
/// - a folder with backbone.onnx + head.onnx → `NanoTracker`;
/// - a file ending in `.onnx` → `OneStreamTracker` (TrackerVit interface: inputs template/search,
///   outputs output1/2/3).
/// - a `.safetensors` weights file (its `__metadata__` names the configuration) or a built-in
///   configuration name (`etrack models`; seeded random weights, i.e. untrained) → serialised in
///   memory with `ModelExporter`, then `OneStreamTracker`.
public enum TrackerLoader {
    /// Loads the model once and returns a closure that makes a fresh tracker per sequence.
    /// - Throws: a message naming the path when the model cannot be read.
    public static func load(model: String, options: TrackerOptions = TrackerOptions()) throws -> @Sendable () -> any SingleObjectTracker {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: model, isDirectory: &isDir)
        if (exists && !isDir.boolValue && model.lowercased().hasSuffix(".safetensors")) || (!exists && (try? ModelRegistry.configuration(named: model)) != nil) {
            return try loadFamilyModel(model, options: options)
        }
        guard exists else {
            throw TrackingError("model '\(model)' does not exist (give a NanoTrack folder holding backbone.onnx and head.onnx, a one-stream .onnx file, a .safetensors weights file, or a configuration name from `etrack models`)")
        }
        if !isDir.boolValue && model.lowercased().hasSuffix(".onnx") {
            return try loadOneStream(path: model, options: options)
        }
        guard isDir.boolValue else {
            throw TrackingError("model '\(model)' is a file but not an .onnx one-stream model; NanoTrack models are folders holding backbone.onnx and head.onnx")
        }
        let nano = try NanoTrackModel(directory: model)
        var parameters = NanoTrackParameters.default(for: nano.version)
        if let mode = options.nanoTrackMode {
            parameters = mode == .openCVCompatible ? .openCVCompatible : .corrected(for: nano.version)
        }
        try options.checkOpenCVVersion(appliesTo: parameters.mode == .openCVCompatible, model: model)
        if let v = options.openCVVersion { parameters.openCVVersion = v }
        let pool = ThreadPool(threads: options.threads)
        let p = parameters
        // Building a tracker only plans buffers; it cannot fail once the model loaded and planned here.
        _ = try NanoTracker(model: nano, parameters: p, pool: pool)
        return { try! NanoTracker(model: nano, parameters: p, pool: pool) }
    }

    /// A model of the EfficientTrack / VitTrack family, given as weights or as a configuration name:
    /// serialised in memory to the graph `etrack export` writes, then run like any one-stream
    /// file, so its metadata picks the pre- and post-processing. No temporary file.
    static func loadFamilyModel(_ reference: String, options: TrackerOptions) throws -> @Sendable () -> any SingleObjectTracker {
        let model: Model
        if reference.lowercased().hasSuffix(".safetensors") {
            model = try ExportWeights.model(contentsOf: reference, configuration: nil)
        } else {
            model = try RandomWeights.model(try ModelRegistry.configuration(named: reference), seed: 0)
        }
        return try load(family: model, name: reference, options: options)
    }

    /// Trackers of a family model held in memory (e.g. the weights a training run has now,
    /// for its validation); `name` stands for the model in messages.
    public static func load(family model: Model, name: String, options: TrackerOptions = TrackerOptions()) throws -> @Sendable () -> any SingleObjectTracker {
        let onnx = try ONNXModel(data: try ModelExporter.serialized(model), name: name)
        return try oneStream(try OneStreamModel(onnx: onnx, name: name, preprocessing: options.oneStreamPreprocessing),
                             options: options, name: name)
    }

    /// A one-stream `.onnx` file (see `OneStreamModel` for the interface and metadata).
    static func loadOneStream(path: String, options: TrackerOptions, name: String? = nil) throws -> @Sendable () -> any SingleObjectTracker {
        try oneStream(try OneStreamModel(path: path, preprocessing: options.oneStreamPreprocessing), options: options, name: name ?? path)
    }

    static func oneStream(_ model: OneStreamModel, options: TrackerOptions, name: String) throws -> @Sendable () -> any SingleObjectTracker {
        let mode = options.oneStreamMode
            ?? options.nanoTrackMode.flatMap { OneStreamParameters.Mode(rawValue: $0.rawValue) }
            ?? (model.hasMetadata ? .corrected : .openCVCompatible)
        var parameters = OneStreamParameters(mode: mode)
        try options.checkOpenCVVersion(appliesTo: mode == .openCVCompatible, model: name)
        if let v = options.openCVVersion { parameters.openCVVersion = v }
        let p = parameters
        let pool = ThreadPool(threads: options.threads)
        // Planning is the only step that can fail; do it once here so the factory cannot.
        _ = try OneStreamTracker(model: model, parameters: p, pool: pool)
        return { try! OneStreamTracker(model: model, parameters: p, pool: pool) }
    }
}
