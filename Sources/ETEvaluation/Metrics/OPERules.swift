import ETData
/// Which frames a sequence-level OPE evaluation scores and how (protocol doc §2, `calc_seq_err_robust`).
///
/// One value per dataset comes from `DatasetKind.opeRules`; the variant (pytracking / ostrack) is
/// chosen separately because it is a property of the toolkit, not of the dataset.
public struct OPERules: Sendable, Equatable {
    /// pytracking's dataset tag (`lasot`, `uav`, …), recorded in reports.
    public var tag: String
    /// NaN ground-truth rows are allowed (UAV123; our folder layout). Elsewhere they raise.
    public var allowsNaNGroundTruth: Bool
    /// Invalid frames count as a centre-error *hit* (−1) instead of a miss (+Inf). UAV123 only.
    public var invalidCentreErrorIsHit: Bool
    /// Frames where the target is not visible get centre and normalised error +Inf (misses).
    /// LaSOT only (not LaSOT_ext).
    public var invisibleIsCentreMiss: Bool
    /// A result file shorter than the ground truth raises instead of being padded with zero rows.
    /// LaSOT only.
    public var shorterResultRaises: Bool
    /// The dataset's visibility flags enter the valid-frame test (pytracking passes `target_visible`
    /// for LaSOT and LaSOT_ext only; its GOT-10k, OTB, TNL2K and UAV123 loaders pass none).
    /// Our folder layout uses `absent.txt`.
    public var usesVisibility: Bool = false
    /// Old pytracking (before `exclude_invalid_frames`): divide by the number of valid frames for
    /// every dataset except `lasot` and `uav`. Off by default (current toolkits divide by all frames).
    public var legacyValidFrameDenominator: Bool = false

    public init(tag: String, allowsNaNGroundTruth: Bool = false, invalidCentreErrorIsHit: Bool = false,
                invisibleIsCentreMiss: Bool = false, shorterResultRaises: Bool = false,
                usesVisibility: Bool = false, legacyValidFrameDenominator: Bool = false) {
        self.usesVisibility = usesVisibility
        self.tag = tag
        self.allowsNaNGroundTruth = allowsNaNGroundTruth
        self.invalidCentreErrorIsHit = invalidCentreErrorIsHit
        self.invisibleIsCentreMiss = invisibleIsCentreMiss
        self.shorterResultRaises = shorterResultRaises
        self.legacyValidFrameDenominator = legacyValidFrameDenominator
    }
}

/// Which copy of the analysis code to reproduce (protocol doc §6).
public enum OPEVariant: String, Sendable, CaseIterable, Codable {
    /// Current pytracking: a GT box is valid when x > 0, y > 0, w > 0 and h > 0
    /// (a box touching the left or top border is invalid: a quirk kept on purpose).
    case pytracking
    /// OSTrack and its copies (STARK, HiT, MixFormerV2, LiteTrack) and older pytracking: w > 0 and h > 0.
    case ostrack
}

/// Which family of metrics `score` computes.
public enum ScoringProtocol: String, Sendable, CaseIterable, Codable {
    /// One-pass evaluation as pytracking/OSTrack: AUC, precision, normalised precision, OP50/OP75.
    case ope
    /// The GOT-10k toolkit: AO, SR0.5, SR0.75 (clipped, frame 0 and absent frames excluded,
    /// frame-weighted).
    case got10k
}

extension DatasetKind {
    /// The per-dataset OPE scoring rules (pytracking's `seq.dataset` tag, protocol doc §2).
    public var opeRules: OPERules {
        switch self {
        case .lasot: return OPERules(tag: "lasot", allowsNaNGroundTruth: false, invalidCentreErrorIsHit: false,
                                     invisibleIsCentreMiss: true, shorterResultRaises: true, usesVisibility: true)
        case .lasotExt: return OPERules(tag: "lasot_extension_subset", usesVisibility: true)
        case .tnl2k: return OPERules(tag: "tnl2k")
        // GOT-10k's absence/cover labels are used by the GOT-10k protocol only, not by OPE (as pytracking).
        case .got10k: return OPERules(tag: "got10k")
        case .otb: return OPERules(tag: "otb")
        case .uav123: return OPERules(tag: "uav", allowsNaNGroundTruth: true, invalidCentreErrorIsHit: true)
        // Our folder layout marks absent frames with NaN rows and absent.txt; it is scored like OTB
        // (invalid frames: IoU miss, precision miss, normalised precision hit) but accepts the NaN rows.
        case .folder: return OPERules(tag: "folder", allowsNaNGroundTruth: true, usesVisibility: true)
        }
    }
}
