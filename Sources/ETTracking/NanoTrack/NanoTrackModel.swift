import ETCore
import ETONNX
import Foundation

/// A loaded NanoTrack network pair (backbone + head), shared read-only by any number of trackers.
///
/// The feature width and the score-map size are read off the graphs (48 channels and 16×16 for
/// v1/v2, 96 channels and 15×15 for v3), so the right post-processing follows from the files.
///
/// Thread-safety: immutable; share it across threads. Each `NanoTracker` owns its own plans.
public final class NanoTrackModel: @unchecked Sendable {
    public enum Version: String, Sendable { case v1, v2, v3, unknown }

    public let directory: String
    public let backbone: ONNXModel
    public let head: ONNXModel
    /// Channels of the backbone's output feature.
    public let featureChannels: Int
    /// Side of the score map (16 for v1/v2, 15 for v3).
    public let scoreSize: Int
    /// Best guess of which published model this is (decides the corrected mode's hyper-parameters).
    public let version: Version

    /// Loads `backbone.onnx` and `head.onnx` from a directory.
    /// - Throws: a message naming the file when one is missing, corrupt or not a NanoTrack graph.
    public init(directory: String) throws {
        self.directory = directory
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw TrackingError("model directory '\(directory)' does not exist")
        }
        let bb = (directory).pathAppending("backbone.onnx")
        let hd = (directory).pathAppending("head.onnx")
        for f in [bb, hd] where !FileManager.default.fileExists(atPath: f) {
            throw TrackingError("'\(directory)' is not a NanoTrack model: \(f) is missing (expected backbone.onnx and head.onnx)")
        }
        backbone = try ONNXModel(path: bb)
        head = try ONNXModel(path: hd)
        guard backbone.inputs.count == 1 else { throw TrackingError("\(bb): expected one input, found \(backbone.inputNames)") }
        guard Set(head.inputNames) == ["input1", "input2"], head.outputNames.contains("output1"), head.outputNames.contains("output2") else {
            throw TrackingError("\(hd): expected inputs input1/input2 and outputs output1/output2 (found \(head.inputNames) → \(head.outputNames))")
        }
        // Probe shapes once: template 127 → 8×8 features, search 255 → 16×16.
        let probe = try ExecutionPlan(model: backbone, inputShapes: [backbone.inputNames[0]: [1, 3, 127, 127]])
        guard let z = probe.outputShapes[backbone.outputNames[0]], z.count == 4 else {
            throw TrackingError("\(bb): the backbone output is not a 4-D feature map")
        }
        featureChannels = z[1]
        let searchProbe = try ExecutionPlan(model: backbone, inputShapes: [backbone.inputNames[0]: [1, 3, 255, 255]])
        let x = searchProbe.outputShapes[backbone.outputNames[0]]!
        guard z[2] == 8, z[3] == 8, x == [1, z[1], 16, 16] else {
            throw TrackingError("\(bb): expected stride-16 features (8x8 for a 127 template, 16x16 for a 255 search), got \(z) and \(x)")
        }
        let headProbe = try ExecutionPlan(model: head, inputShapes: ["input1": z, "input2": x])
        let cls = headProbe.outputShapes["output1"]!, loc = headProbe.outputShapes["output2"]!
        guard cls.count == 4, cls[1] == 2, loc.count == 4, loc[1] == 4, cls[2] == cls[3], loc[2] == cls[2], loc[3] == cls[3] else {
            throw TrackingError("\(hd): outputs have shapes \(cls) and \(loc); expected 1x2xSxS and 1x4xSxS")
        }
        scoreSize = cls[2]
        switch (featureChannels, scoreSize, backbone.opset) {
        case (96, 15, _): version = .v3
        case (48, 16, 9): version = .v1
        case (48, 16, _): version = .v2
        default: version = .unknown
        }
    }
}
