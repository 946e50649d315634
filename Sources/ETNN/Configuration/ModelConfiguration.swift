// Size letters used across ETNN: C backbone channels, h attention heads, N tokens, c head width,
// r FFN ratio, k grouped-attention key dim, d value dim per head.

/// Which model family a configuration belongs to. The family only selects the counting
/// convention of the research notes (`docs/models/accounting.md`); the network itself is fully
/// described by the other fields.
public enum ModelFamily: String, Codable, Sendable, CaseIterable {
    /// EfficientTrack (AF/FAF/GAF/FGAF blocks). Notes count it with the stem and FFN Conv+BN pairs folded.
    case efficientTrack = "efficienttrack"
    /// The one-stream ViT baseline ("-" rows) and the OpenCV-zoo model. Notes count it unfolded.
    case baseline
    /// VitTrack (conv2x2 stem, cls token, one sin/cos position table). Notes count it unfolded, N = 320.
    case vitTrack = "vittrack"
}

/// The patch-embedding stem, shared by template and search (architecture.md §2).
public enum StemKind: String, Codable, Sendable, CaseIterable {
    /// Four Conv3×3 s2 p1 (+BN), Hardswish between them; widths C/8, C/4, C/2, C (LeViT "b16").
    case conv3x3
    /// The same four stages with 2×2 stride-2 unpadded kernels.
    case conv2x2
    /// One Conv16×16 s16 with bias (standard ViT patch embedding).
    case linear16
}

/// One backbone block (architecture.md §4). Sub-layers read left to right in execution order.
public enum BlockKind: String, Codable, Sendable, CaseIterable {
    /// timm pre-norm ViT block: x += Proj(MHSA(LN x)); x += FC2(GELU(FC1(LN x))).
    case vit
    /// A, FFN₄
    case af
    /// FFN₂, A, FFN₂
    case faf
    /// GA, FFN₄
    case gaf
    /// FFN₂, GA, FFN₂
    case fgaf

    /// The residual sub-layers of an EfficientTrack block, in order (empty for `.vit`).
    public func subLayers(ffnRatio: Int, sandwichFFNRatio: Int) -> [SubLayerKind] {
        switch self {
        case .vit: return []
        case .af: return [.attention, .ffn(ratio: ffnRatio)]
        case .faf: return [.ffn(ratio: sandwichFFNRatio), .attention, .ffn(ratio: sandwichFFNRatio)]
        case .gaf: return [.groupedAttention, .ffn(ratio: ffnRatio)]
        case .fgaf: return [.ffn(ratio: sandwichFFNRatio), .groupedAttention, .ffn(ratio: sandwichFFNRatio)]
        }
    }
}

/// A residual sub-layer of an EfficientTrack block: x ← x + f(x).
public enum SubLayerKind: Equatable, Sendable {
    /// Conv1d 1×1 (C→rC)+BN, ReLU, Conv1d 1×1 (rC→C)+BN.
    case ffn(ratio: Int)
    /// Plain multi-head self-attention A (optional LN, qkv without bias, proj with bias).
    case attention
    /// Grouped attention GA (grouped qkv conv, ReLU, proj, BN1d).
    case groupedAttention
}

/// Order of tokens entering the blocks (architecture.md §3).
public enum TokenLayout: String, Codable, Sendable, CaseIterable {
    /// [z (64); x (256)], N = 320, two zero-initialised tables `pos_z`, `pos_x`, no cls token.
    case templateSearch = "template-search"
    /// [cls (1); x (256); z (64)], N = 321, one table of 1+320 rows with the 1-D sin/cos
    /// initialisation (cls row zero) and a trunc-normal cls token.
    case clsSearchTemplate = "cls-search-template"
}

/// The prediction head (architecture.md §5).
public enum HeadKind: String, Codable, Sendable, CaseIterable {
    /// OSTrack CenterPredictor: three towers (score, size, offset maps).
    case center
    /// STARK corner predictor (CORNER_v3): two towers, soft-argmax of TL/BR heatmaps.
    case corner
}

/// A model as data: every field the architecture needs, nothing else. Codable, so a
/// configuration is a small JSON document; the named ones live in `ModelRegistry`.
///
/// Shapes follow from the fields: tokens `templateTokens = (templateSize/16)²`,
/// `searchTokens = (searchSize/16)²`; the head reads the search tokens as a
/// `C × (searchSize/16) × (searchSize/16)` map.
public struct ModelConfiguration: Codable, Equatable, Sendable {
    /// Registry name (e.g. `et-256-fgaf3`); free text for custom configurations.
    public var name: String
    public var family: ModelFamily
    public var stem: StemKind
    /// Backbone channels C.
    public var channels: Int
    /// Attention heads h (also the groups of GA).
    public var heads: Int
    /// Number of blocks.
    public var depth: Int
    /// The block type, repeated `depth` times.
    public var block: BlockKind
    /// MLP ratio of the ViT block and r of the single FFN in AF/GAF (4).
    public var ffnRatio: Int
    /// r of both FFNs in the sandwich blocks FAF/FGAF (2).
    public var sandwichFFNRatio: Int
    /// Key (and query) dim k per head of grouped attention (16).
    public var groupedKeyDim: Int
    /// Whether A has its LayerNorm (added 2023-09-26; false reproduces the earlier code).
    public var attentionNorm: Bool
    /// Whether the ViT block's qkv Linear has a bias (timm default: true).
    public var qkvBias: Bool
    public var tokenLayout: TokenLayout
    public var head: HeadKind
    /// Head width c (tower C→c→c/2→c/4→c/8).
    public var headChannels: Int
    /// Template crop side (128) and search crop side (256), in pixels.
    public var templateSize: Int
    public var searchSize: Int
    /// Where the configuration comes from (the notes' row, or the OpenCV zoo).
    public var source: String

    public init(name: String, family: ModelFamily, stem: StemKind, channels: Int, heads: Int, depth: Int,
                block: BlockKind, ffnRatio: Int = 4, sandwichFFNRatio: Int = 2, groupedKeyDim: Int = 16,
                attentionNorm: Bool = true, qkvBias: Bool = true, tokenLayout: TokenLayout,
                head: HeadKind = .center, headChannels: Int, templateSize: Int = 128, searchSize: Int = 256,
                source: String = "") {
        self.name = name; self.family = family; self.stem = stem; self.channels = channels
        self.heads = heads; self.depth = depth; self.block = block; self.ffnRatio = ffnRatio
        self.sandwichFFNRatio = sandwichFFNRatio; self.groupedKeyDim = groupedKeyDim
        self.attentionNorm = attentionNorm; self.qkvBias = qkvBias; self.tokenLayout = tokenLayout
        self.head = head; self.headChannels = headChannels; self.templateSize = templateSize
        self.searchSize = searchSize; self.source = source
    }

    /// Total stride of the stem.
    public static let patchSize = 16
    public var templateSide: Int { templateSize / Self.patchSize }
    public var searchSide: Int { searchSize / Self.patchSize }
    public var templateTokens: Int { templateSide * templateSide }
    public var searchTokens: Int { searchSide * searchSide }
    /// Whether a cls token is prepended (VitTrack layout).
    public var hasClassToken: Bool { tokenLayout == .clsSearchTemplate }
    /// Tokens through the blocks: 320, or 321 with the cls token.
    public var tokens: Int { templateTokens + searchTokens + (hasClassToken ? 1 : 0) }
    /// Per-head dim of plain attention, C/h.
    public var headDim: Int { channels / heads }
    /// Value dim per head of GA: (C // (h·k))·k = C/h when divisible.
    public var groupedValueDim: Int { channels / (heads * groupedKeyDim) * groupedKeyDim }
    /// qkv output channels of GA: h·(2k + d) (= 128 + C with the defaults).
    public var groupedQKVChannels: Int { heads * (2 * groupedKeyDim + groupedValueDim) }
    /// The block sequence, e.g. [fgaf, fgaf, fgaf].
    public var blocks: [BlockKind] { Array(repeating: block, count: depth) }
    /// Stem widths (C/8, C/4, C/2, C), or [C] for `linear16`.
    public var stemWidths: [Int] {
        stem == .linear16 ? [channels] : [channels / 8, channels / 4, channels / 2, channels]
    }

    /// Checks that the fields describe a buildable network.
    /// - Throws: `ModelError.invalidConfiguration` naming the first problem.
    public func validate() throws {
        func fail(_ m: String) throws -> Never { throw ModelError.invalidConfiguration("\(name): \(m)") }
        if channels <= 0 || channels % 8 != 0 { try fail("channels \(channels) must be a positive multiple of 8") }
        if heads <= 0 || channels % heads != 0 { try fail("channels \(channels) not divisible by heads \(heads)") }
        if depth < 0 { try fail("depth \(depth) is negative") }
        if headChannels <= 0 || headChannels % 8 != 0 { try fail("head channels \(headChannels) must be a positive multiple of 8") }
        if templateSize % Self.patchSize != 0 || searchSize % Self.patchSize != 0 || templateSize <= 0 || searchSize <= 0 {
            try fail("template/search sizes \(templateSize)/\(searchSize) must be positive multiples of 16")
        }
        if block == .gaf || block == .fgaf {
            if groupedKeyDim <= 0 || groupedValueDim <= 0 { try fail("grouped attention needs C ≥ h·k (C \(channels), h \(heads), k \(groupedKeyDim))") }
        }
        if family == .vitTrack && block != .vit { try fail("VitTrack uses ViT blocks") }
        if tokenLayout == .clsSearchTemplate && block != .vit { try fail("the cls layout is implemented for ViT blocks only") }
        if head == .corner && tokenLayout != .clsSearchTemplate {
            // The corner head works without a cls token too (no feature weighting).
        }
        if ffnRatio <= 0 || sandwichFFNRatio <= 0 { try fail("FFN ratios must be positive") }
    }
}

/// Errors of model configuration, weights and forward passes; messages name what is wrong.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    case unknownModel(String, known: [String])
    case invalidConfiguration(String)
    case missingTensor(String)
    case unexpectedTensor(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case nonFinite(name: String, index: Int)
    case badInput(String)

    public var description: String {
        switch self {
        case let .unknownModel(n, known):
            return "unknown model '\(n)'; known models: \(known.joined(separator: ", ")) (append @depth=N to change the depth)"
        case let .invalidConfiguration(m): return "invalid model configuration: \(m)"
        case let .missingTensor(n): return "weights: tensor '\(n)' is missing"
        case let .unexpectedTensor(n): return "weights: tensor '\(n)' is not part of this configuration"
        case let .shapeMismatch(n, e, f): return "weights: tensor '\(n)' has shape \(f), expected \(e)"
        case let .nonFinite(n, i): return "weights: tensor '\(n)' holds a non-finite value (NaN or infinity) at flat index \(i)"
        case let .badInput(m): return "model input: \(m)"
        }
    }
}
