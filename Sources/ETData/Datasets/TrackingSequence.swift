
/// One annotated video of a single-object benchmark: its frames, one ground-truth box per frame
/// and the per-frame flags the reference toolkits use to decide which frames are scored.
///
/// The type is not called `Sequence` on purpose: that name would shadow `Swift.Sequence` in every
/// file that imports this module.
///
/// Frame `i` of `framePaths`, `groundTruth`, `absent` and the flags all describe the same image.
/// Loaders already apply dataset offsets (OTB `init_omit`, UAV123 start/end frames), so index 0 is
/// the frame a tracker is initialised on.
public struct TrackingSequence: Sendable, Equatable {
    /// The sequence name, used as the result file name (`<name>.txt`).
    public var name: String
    /// Absolute or root-relative paths of the frames, in playback order.
    public var framePaths: [String]
    /// One box per annotated frame; `nil` for a row that is NaN (UAV123 and `absent.txt` rows).
    /// May be shorter than `framePaths` only when loaded with `GroundTruthPolicy.prefix`.
    public var groundTruth: [BoundingBox?]
    /// Per-frame "the target is not visible" flags, when the dataset provides them
    /// (`absent.txt`, LaSOT `full_occlusion | out_of_view`, GOT-10k `absence.label`/`cover.label`).
    public var absent: [Bool]?
    /// GOT-10k `cover.label` values (0…8, 0 = absent), when present. Used by the GOT-10k protocol.
    public var cover: [Int]?
    /// Image size (width, height) when the dataset states it (GOT-10k `meta_info.ini`).
    public var imageSize: ImageSize?
    /// Challenge attributes (LaSOT, UAV123, OTB), e.g. `"FOC"`, `"SV"`.
    public var attributes: [String]
    /// Object class when the dataset names one (LaSOT class folder, GOT-10k `object_class`).
    public var objectClass: String?

    public init(name: String, framePaths: [String], groundTruth: [BoundingBox?],
                absent: [Bool]? = nil, cover: [Int]? = nil, imageSize: ImageSize? = nil,
                attributes: [String] = [], objectClass: String? = nil) {
        self.name = name
        self.framePaths = framePaths
        self.groundTruth = groundTruth
        self.absent = absent
        self.cover = cover
        self.imageSize = imageSize
        self.attributes = attributes
        self.objectClass = objectClass
    }

    /// Number of frames.
    public var count: Int { framePaths.count }

    /// The box a tracker is initialised with (ground truth of frame 0), if annotated.
    public var initialBox: BoundingBox? { groundTruth.first ?? nil }

    /// `true` where the target is visible (the complement of `absent`), or `nil` without flags.
    public var visible: [Bool]? { absent.map { $0.map { !$0 } } }
}

/// Width and height of a sequence's frames in pixels.
public struct ImageSize: Sendable, Equatable, Codable {
    public var width: Double
    public var height: Double
    public init(width: Double, height: Double) { self.width = width; self.height = height }
}
