import ETCore
import ETONNX
import Foundation

/// How a one-stream network wants its crops: mean and std per channel (on the 0...1 scale, in
/// the network's channel order) and that channel order.
public struct OneStreamPreprocessing: Sendable, Equatable {
    /// The channel order the network was trained on.
    public enum ColorOrder: String, Sendable, Equatable {
        case rgb = "RGB"
        case bgr = "BGR"
    }

    /// Per-channel mean on the 0...1 scale, in `colorOrder`.
    public var mean: [Double]
    /// Per-channel standard deviation on the 0...1 scale, in `colorOrder`.
    public var std: [Double]
    public var colorOrder: ColorOrder

    public init(mean: [Double], std: [Double], colorOrder: ColorOrder) {
        self.mean = mean; self.std = std; self.colorOrder = colorOrder
    }

    /// ImageNet statistics on RGB input: what OSTrack-family models (and OpenCV's TrackerVit
    /// defaults) use, and the default for files without metadata.
    public static let imageNet = OneStreamPreprocessing(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], colorOrder: .rgb)
}

/// A loaded one-stream tracking network with the TrackerVit interface, shared read-only by any
/// number of `OneStreamTracker`s.
///
/// The ONNX file must have the inputs `template` (1×3×T×T, 128 by default) and `search`
/// (1×3×S×S, 256 by default) and the outputs `output1` (score, 1×1×M×M), `output2` (size w, h as
/// fractions of the search crop, 1×2×M×M) and `output3` (offset dx, dy in cells, 1×2×M×M), with
/// M = S/16 = 16 for the default sizes. This is the interface of OpenCV's `TrackerVit` and of the
/// files `etrack export` writes.
///
/// ## Metadata
/// Files written by our exporter carry `metadata_props`, read here so a model never silently gets
/// the wrong pre- or post-processing:
///
/// | key | example | use |
/// |---|---|---|
/// | `etrack.config` | `et-128-fgaf3-bn` | the configuration name (reported) |
/// | `etrack.template_size` | `128` | template crop side T |
/// | `etrack.search_size` | `256` | search crop side S |
/// | `etrack.mean` | `0.485,0.456,0.406` | per-channel mean, 0...1 scale, in the colour order |
/// | `etrack.std` | `0.229,0.224,0.225` | per-channel std, likewise |
/// | `etrack.color_order` | `RGB` | `RGB` or `BGR` |
/// | `etrack.box` | `center: …` | the keyword before `:` must be `center` (or `centre`, `cxcywh`) |
/// | `etrack.score` | `sigmoid` | score semantics (reported; the decode thresholds assume a probability) |
/// | `etrack.format_version` | `1` | metadata version; a newer major version is rejected |
///
/// Numbers may be separated by commas, spaces or semicolons and may be wrapped in brackets
/// (`[0.485, 0.456, 0.406]`); sizes may be `128`, `128x128` or `1x3x128x128`. A value that
/// cannot be read, or a box/version this tracker cannot decode, is an error naming the file and
/// key, never a silent fallback.
///
/// Files without any `etrack.*` key (OpenCV-zoo style, e.g.
/// `object_tracking_vittrack_2023sep.onnx`) get TrackerVit's defaults: 128/256 crops, ImageNet
/// mean/std, RGB training order, center-head decode (`OneStreamPreprocessing.imageNet`). Pass
/// `preprocessing:` to override mean/std/order in either case.
///
/// Thread-safety: immutable; share it across threads. Each tracker owns its own `ExecutionPlan`.
public final class OneStreamModel: @unchecked Sendable {
    /// Highest metadata major version this reader understands.
    public static let supportedFormatVersion = 1

    public let path: String
    public let onnx: ONNXModel
    /// `etrack.config`, or nil for files without metadata.
    public let configuration: String?
    /// Side of the template crop (T).
    public let templateSize: Int
    /// Side of the search crop (S).
    public let searchSize: Int
    /// Side of the score map (M).
    public let scoreSize: Int
    /// The normalisation and channel order the network expects.
    public let preprocessing: OneStreamPreprocessing
    /// `etrack.score`, or nil.
    public let scoreSemantics: String?
    /// True when the file carries `etrack.*` metadata (false: the TrackerVit defaults were used).
    public let hasMetadata: Bool

    /// Loads and checks an ONNX file.
    /// - Parameters:
    ///   - path: The `.onnx` file.
    ///   - preprocessing: Overrides the file's (or the default) mean, std and colour order.
    /// - Throws: `TrackingError` naming the file when it is missing, when its inputs, outputs or
    ///   output shapes do not fit the interface above, or when its metadata cannot be used;
    ///   `ONNXError` (naming the file) when it is not a readable ONNX model.
    public convenience init(path: String, preprocessing override: OneStreamPreprocessing? = nil) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw TrackingError("one-stream model '\(path)' does not exist")
        }
        guard !isDir.boolValue else { throw TrackingError("one-stream model '\(path)' is a directory, not an .onnx file") }
        try self.init(onnx: try ONNXModel(path: path), name: path, preprocessing: override)
    }

    /// A model already in memory (a family model serialised by `ModelExporter`, no file):
    /// the same checks as a file; `name` stands for the path in messages.
    public init(onnx: ONNXModel, name: String, preprocessing override: OneStreamPreprocessing? = nil) throws {
        let path = name
        self.path = name
        self.onnx = onnx
        let meta = onnx.metadata
        hasMetadata = meta.keys.contains { $0.hasPrefix("etrack.") }
        func fail(_ why: String) -> TrackingError { TrackingError("\(path): \(why)") }

        guard Set(onnx.inputNames) == ["template", "search"] else {
            throw fail("not a one-stream tracker: expected the inputs 'template' and 'search', found \(onnx.inputNames)")
        }
        for name in ["output1", "output2", "output3"] where !onnx.outputNames.contains(name) {
            throw fail("not a one-stream tracker: output '\(name)' is missing (expected output1 score, output2 size, output3 offset; found \(onnx.outputNames))")
        }

        if let v = meta["etrack.format_version"] {
            guard let major = Int(v.split(separator: ".").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? "") else {
                throw fail("etrack.format_version '\(v)' is not a version number")
            }
            guard major <= Self.supportedFormatVersion else {
                throw fail("etrack.format_version \(v) is newer than this reader (\(Self.supportedFormatVersion)); update EfficientTrack")
            }
        }
        if let box = meta["etrack.box"] {
            // The keyword before ':' (our exporter writes "center: output2=size …, output3=offset …").
            let b = box.split(separator: ":", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard ["center", "centre", "center-head", "cxcywh"].contains(b) else {
                throw fail("etrack.box '\(box)': this tracker decodes center-head maps (score, size, offset) only")
            }
        }
        configuration = meta["etrack.config"]
        scoreSemantics = meta["etrack.score"]
        templateSize = try meta["etrack.template_size"].map { try Self.side($0, key: "etrack.template_size", path: path) } ?? 128
        searchSize = try meta["etrack.search_size"].map { try Self.side($0, key: "etrack.search_size", path: path) } ?? 256

        var pre = OneStreamPreprocessing.imageNet
        if let m = meta["etrack.mean"] { pre.mean = try Self.numbers(m, key: "etrack.mean", path: path) }
        if let s = meta["etrack.std"] { pre.std = try Self.numbers(s, key: "etrack.std", path: path) }
        if let c = meta["etrack.color_order"] {
            guard let order = OneStreamPreprocessing.ColorOrder(rawValue: c.trimmingCharacters(in: .whitespaces).uppercased()) else {
                throw fail("etrack.color_order '\(c)' is neither RGB nor BGR")
            }
            pre.colorOrder = order
        }
        if let o = override { pre = o }
        guard pre.mean.count == 3, pre.std.count == 3 else {
            throw fail("mean and std need 3 values each, got \(pre.mean) and \(pre.std)")
        }
        guard pre.mean.allSatisfy(\.isFinite), pre.std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw fail("mean \(pre.mean) / std \(pre.std) must be finite with std > 0")
        }
        guard pre.mean.allSatisfy({ abs($0) <= 1 }), pre.std.allSatisfy({ $0 <= 1 }) else {
            throw fail("mean \(pre.mean) / std \(pre.std) look like the 0...255 scale; give them on the 0...1 scale")
        }
        preprocessing = pre

        // Probe the shapes once with the crop sizes.
        let plan: ExecutionPlan
        do {
            plan = try ExecutionPlan(model: onnx, inputShapes: ["template": [1, 3, templateSize, templateSize],
                                                                 "search": [1, 3, searchSize, searchSize]])
        } catch let e as ONNXError {
            throw fail("cannot run with template 1x3x\(templateSize)x\(templateSize) and search 1x3x\(searchSize)x\(searchSize): \(e)")
        }
        let score = plan.outputShapes["output1"] ?? [], size = plan.outputShapes["output2"] ?? [], offset = plan.outputShapes["output3"] ?? []
        guard score.count == 4, score[0] == 1, score[1] == 1, score[2] == score[3], score[2] > 1,
              size == [1, 2, score[2], score[3]], offset == size else {
            throw fail("outputs have shapes output1 \(score), output2 \(size), output3 \(offset); expected 1x1xMxM, 1x2xMxM, 1x2xMxM")
        }
        scoreSize = score[2]
    }

    /// Reads a crop side: `128`, `128x128` or `1x3x128x128` (the last number; all sides equal).
    static func side(_ text: String, key: String, path: String) throws -> Int {
        let parts = text.lowercased().split(whereSeparator: { "x×,; []()".contains($0) }).map { Int($0) }
        guard let last = parts.last, parts.allSatisfy({ $0 != nil }), let v = last, v > 0, v <= 4096 else {
            throw TrackingError("\(path): \(key) '\(text)' is not a crop size")
        }
        if parts.count >= 2, parts[parts.count - 2] != v {
            throw TrackingError("\(path): \(key) '\(text)': non-square crops are not supported")
        }
        return v
    }

    /// Reads three numbers separated by commas, spaces or semicolons, optionally in brackets.
    static func numbers(_ text: String, key: String, path: String) throws -> [Double] {
        let parts = text.split(whereSeparator: { ", ;[]()".contains($0) })
        let values = parts.compactMap { Double($0) }
        guard values.count == parts.count, values.count == 3 else {
            throw TrackingError("\(path): \(key) '\(text)' is not three numbers")
        }
        return values
    }
}
