/// The named built-in configurations: every row of the notes' tables (architecture.md §7) and
/// the OpenCV-zoo VitTrack model (§9).
///
/// A name may carry overrides after `@`, comma or `@` separated: `et-256-fgaf3@depth=5`,
/// `vittrack-d3-c128@head=corner,headChannels=128`. Keys: `depth`, `heads`, `head`
/// (center|corner), `headChannels`, `attentionNorm` (true|false), `channels`, `templateSize`,
/// `searchSize`. So the notes' depth ablation (2, 3, 4, 5 blocks) is one suffix away, and so is a
/// small model to try training on (`et-128-fgaf3-bn@channels=32,depth=1,headChannels=32`).
public enum ModelRegistry {
    /// All built-in configurations, in the order of the notes' tables.
    public static let all: [ModelConfiguration] = {
        func et(_ name: String, _ c: Int, _ block: BlockKind, depth: Int = 3, stem: StemKind = .conv3x3,
                _ source: String) -> ModelConfiguration {
            ModelConfiguration(name: name, family: .efficientTrack, stem: stem, channels: c, heads: 4, depth: depth,
                               block: block, qkvBias: false, tokenLayout: .templateSearch, headChannels: 128,
                               source: source)
        }
        func base(_ name: String, _ c: Int, _ source: String) -> ModelConfiguration {
            ModelConfiguration(name: name, family: .baseline, stem: .conv3x3, channels: c, heads: 4, depth: 3,
                               block: .vit, tokenLayout: .templateSearch, headChannels: 128, source: source)
        }
        func vt(_ depth: Int, _ c: Int, _ source: String) -> ModelConfiguration {
            ModelConfiguration(name: "vittrack-d\(depth)-c\(c)", family: .vitTrack, stem: .conv2x2, channels: c,
                               heads: c == 768 ? 12 : 4, depth: depth, block: .vit,
                               tokenLayout: .clsSearchTemplate, headChannels: 256, source: source)
        }
        return [
            base("et-128-vit3", 128, "notes table 1: 128/128 - (also MAE, MTR)"),
            base("et-256-vit3", 256, "notes table 1: 256/128 -"),
            et("et-256-gaf3", 256, .gaf, "notes table 1: 256 GAF*3"),
            et("et-256-fgaf3", 256, .fgaf, "notes table 1: 256 FGAF*3 (also MTR FGAF*3)"),
            et("et-256-af3", 256, .af, "notes table 1: 256 AF*3"),
            et("et-256-faf3", 256, .faf, "notes table 1: 256 FAF*3"),
            et("et-256-fgaf4", 256, .fgaf, depth: 4, "notes table 1: 256 FGAF*4"),
            et("et-256-fgaf2", 256, .fgaf, depth: 2, "notes table 1: 256 FGAF*2"),
            et("et-128-af3-bn", 128, .af, "notes table 1: 128 AF(BN)"),
            et("et-128-faf3-bn", 128, .faf, "notes table 1: 128 FAF(BN)"),
            et("et-128-gaf3-bn", 128, .gaf, "notes table 1: 128 GAF(BN)"),
            et("et-128-fgaf3-bn", 128, .fgaf, "notes table 1: 128 FGAF(BN)"),
            et("et-256-fgaf3-c2", 256, .fgaf, stem: .conv2x2, "notes table 1: 256 MTR200 FGAF_C2"),
            vt(3, 128, "notes table 3: d3 c128"),
            vt(3, 256, "notes table 3: d3 c256"),
            vt(6, 256, "notes table 3: d6 c256"),
            vt(12, 256, "notes tables 3 and 4: d12 c256"),
            vt(4, 768, "notes table 3: d4 c768 (ViT-XS)"),
            vt(6, 768, "notes table 3: d6 c768"),
            vt(12, 768, "notes table 3: d12 c768 (ViT-Base)"),
            ModelConfiguration(name: "vittrack-opencv-48", family: .baseline, stem: .conv3x3, channels: 48, heads: 1,
                               depth: 3, block: .vit, tokenLayout: .templateSearch, headChannels: 32,
                               source: "OpenCV zoo object_tracking_vittrack_2023sep.onnx (vit_48_h32_noKD)"),
        ]
    }()

    /// Names of the built-in configurations.
    public static var names: [String] { all.map(\.name) }

    /// The configuration called `name`, with optional `@key=value` overrides.
    /// - Throws: `ModelError.unknownModel` (listing the known names) or
    ///   `ModelError.invalidConfiguration` for a bad override.
    public static func configuration(named name: String) throws -> ModelConfiguration {
        let parts = name.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let base = String(parts[0])
        guard var config = all.first(where: { $0.name == base }) else {
            throw ModelError.unknownModel(base, known: names)
        }
        guard parts.count == 2 else { return config }
        for item in parts[1].split(whereSeparator: { $0 == "," || $0 == "@" }) {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ModelError.invalidConfiguration("override '\(item)' is not key=value") }
            try apply(key: kv[0], value: kv[1], to: &config)
        }
        config.name = name
        try config.validate()
        return config
    }

    /// Applies one override (`depth=5`, `head=corner`, …) to `config`.
    public static func apply(key: String, value: String, to config: inout ModelConfiguration) throws {
        func int() throws -> Int {
            guard let v = Int(value), v >= 0 else { throw ModelError.invalidConfiguration("\(key)=\(value): not a non-negative integer") }
            return v
        }
        switch key {
        case "depth": config.depth = try int()
        case "channels": config.channels = try int()
        case "templateSize", "template_size": config.templateSize = try int()
        case "searchSize", "search_size": config.searchSize = try int()
        case "heads": config.heads = try int()
        case "headChannels", "head_channels": config.headChannels = try int()
        case "head":
            guard let h = HeadKind(rawValue: value) else { throw ModelError.invalidConfiguration("head=\(value): use center or corner") }
            config.head = h
        case "attentionNorm", "attention_norm":
            guard let b = Bool(value) else { throw ModelError.invalidConfiguration("attentionNorm=\(value): use true or false") }
            config.attentionNorm = b
        default:
            throw ModelError.invalidConfiguration("unknown override '\(key)' (known: depth, heads, head, headChannels, attentionNorm, channels, templateSize, searchSize)")
        }
    }
}

import Foundation

extension ModelRegistry {
    /// A built-in name (with optional `@key=value` overrides), a path to a configuration JSON file, or a JSON document.
    /// - Throws: `ModelError.unknownModel`, `ModelError.invalidConfiguration`, or a file/decoding error
    ///   wrapped as `invalidConfiguration` naming the file.
    public static func resolve(_ nameOrPath: String) throws -> ModelConfiguration {
        let inline = nameOrPath.hasPrefix("{")
        guard nameOrPath.hasSuffix(".json") || inline else { return try configuration(named: nameOrPath) }
        let data: Data
        do { data = inline ? Data(nameOrPath.utf8) : try Data(contentsOf: URL(fileURLWithPath: nameOrPath)) } catch {
            throw ModelError.invalidConfiguration("cannot read \(nameOrPath): \(error.localizedDescription)")
        }
        let config: ModelConfiguration
        do { config = try JSONDecoder().decode(ModelConfiguration.self, from: data) } catch {
            throw ModelError.invalidConfiguration("\(nameOrPath) is not a model configuration: \(error)")
        }
        try config.validate()
        return config
    }
}
