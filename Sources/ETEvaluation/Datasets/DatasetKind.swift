/// The benchmark layouts the toolkit reads, as named on the command line (`--dataset`).
public enum DatasetKind: String, Sendable, CaseIterable, Codable {
    case folder
    case lasot
    case lasotExt = "lasot_ext"
    case tnl2k
    case got10k
    case otb
    case uav123

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
