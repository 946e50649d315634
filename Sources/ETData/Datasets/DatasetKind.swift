/// The benchmark layouts the toolkit reads, as named on the command line (`--dataset`).
public enum DatasetKind: String, Sendable, CaseIterable, Codable {
    case folder
    case lasot
    case lasotExt = "lasot_ext"
    case tnl2k
    case got10k
    case otb
    case uav123
}
