import ArgumentParser
import ETNN
import Foundation

/// `etrack models`: the built-in model configurations with the notes' parameter/MAC counts.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the built-in model configurations.",
        discussion: """
        Params and MACs use the research notes' convention (thop style; see docs/models/accounting.md). \
        Any name accepts overrides after '@', e.g. et-256-fgaf3@depth=5.
        """)

    @Flag(help: "Print JSON (one object per model, with the configuration and the integer keys params and macs).")
    var json = false

    @Flag(help: "Print docs/models/accounting.md: the notes' rows against our counts.")
    var accountingMarkdown = false

    func run() throws {
        if accountingMarkdown {
            print(NotesReference.markdown(), terminator: "")
            return
        }
        let reports = ModelRegistry.all.map { ModelReport($0) }
        if json {
            print(try jsonString(reports))
            return
        }
        print(pad("name", 20) + pad("family", 16) + pad("stem", 9) + pad("C", 5) + pad("blocks", 9) + pad("head", 12)
              + lpad("params (M)", 11) + lpad("MACs (M)", 10) + lpad("+mm (M)", 9))
        for r in reports {
            let c = r.configuration
            print(pad(c.name, 20) + pad(c.family.rawValue, 16) + pad(c.stem.rawValue, 9) + pad("\(c.channels)", 5)
                  + pad("\(c.block.rawValue.uppercased())*\(c.depth)", 9) + pad("\(c.head.rawValue) \(c.headChannels)", 12)
                  + lpad(String(format: "%.4f", Double(r.params) / 1e6), 11)
                  + lpad(String(format: "%.1f", Double(r.macs) / 1e6), 10)
                  + lpad(String(format: "%.1f", Double(r.notes.attentionMACs) / 1e6), 9))
        }
    }
}

/// `etrack info NAME`: parameters and MACs of a configuration, per stage.
struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show parameters and MACs of a model configuration.",
        discussion: """
        NAME is a built-in name (see 'etrack models'), optionally with overrides (et-256-fgaf3@depth=5), \
        or a configuration JSON file. Counts: the notes' convention (params, macs), with the attention \
        matmuls (+mm), and as deployed (every BatchNorm folded, cls token included).
        """)

    @Argument(help: "Model name or configuration JSON file.")
    var name: String

    @Option(help: "Override the number of blocks (the notes' depth ablation: 2, 3, 4, 5).")
    var depth: Int?

    @Flag(help: "Print JSON (integer keys params and macs in the notes' convention, plus the breakdown).")
    var json = false

    func validate() throws {
        if let depth, depth < 0 || depth > 64 { throw ValidationError("--depth must be between 0 and 64") }
    }

    func run() throws {
        var config: ModelConfiguration
        do { config = try ModelRegistry.resolve(name) } catch let e as ModelError { throw ValidationError(e.description) }
        if let depth {
            config.depth = depth
            if !config.name.contains("@depth=") { config.name += "@depth=\(depth)" }
        }
        let r = ModelReport(config)
        if json {
            print(try jsonString(r))
            return
        }
        let c = r.configuration
        print("\(c.name): \(c.family.rawValue), \(c.stem.rawValue) stem, C=\(c.channels), \(c.heads) heads, \(c.block.rawValue.uppercased())*\(c.depth), \(c.head.rawValue) head c=\(c.headChannels), \(c.tokenLayout.rawValue) (\(c.tokens) tokens)")
        if !c.source.isEmpty { print("source: \(c.source)") }
        print("")
        print("notes' convention (folding: \(r.notes.folding.rawValue), \(r.notes.tokens) tokens):")
        print(pad("stage", 12) + lpad("params", 12) + lpad("MACs", 15) + lpad("attn mm", 13) + lpad("tables", 10))
        for s in r.notes.stages {
            print(pad(s.stage, 12) + lpad("\(s.params)", 12) + lpad("\(s.macs)", 15) + lpad("\(s.attentionMACs)", 13) + lpad("\(s.tableParams)", 10))
        }
        print(pad("total", 12) + lpad("\(r.params)", 12) + lpad("\(r.macs)", 15) + lpad("\(r.notes.attentionMACs)", 13) + lpad("\(r.notes.tableParams)", 10))
        print("")
        print(String(format: "params %.4f M (%.4f M with tables), MACs %.1f M (%.1f M with attention matmuls)",
                     Double(r.params) / 1e6, Double(r.allParams) / 1e6, Double(r.macs) / 1e6, Double(r.macsWithAttention) / 1e6))
        print(String(format: "head: %.1f %% of params, %.1f %% of MACs", r.headParamShare * 100, r.headMACShare * 100))
        print(String(format: "deployed (all BN folded, %d tokens): params %.4f M, MACs %.1f M (+%.1f M attention matmuls)",
                     r.deployed.tokens, Double(r.deployed.params) / 1e6, Double(r.deployed.macs) / 1e6, Double(r.deployed.attentionMACs) / 1e6))
    }
}

private func jsonString<T: Encodable>(_ value: T) throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try enc.encode(value), as: UTF8.self)
}

private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
private func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? " " + s : String(repeating: " ", count: n - s.count) + s }
