import ETCore
import ETNN
import Foundation

// Size letters: C backbone channels, h heads, d value dim per head, k key dim (GA), N tokens,
// S search side in tokens (16), M = S·S.

/// Writes an ETNN `Model` as a standard ONNX graph (opset 17) with the interface of OpenCV's
/// TrackerVit: inputs `template` (1×3×128×128) and `search` (1×3×256×256); for the center head
/// outputs `output1` (score map 1×1×16×16, sigmoid, clamped to [1e-4, 1−1e-4]), `output2`
/// (size 1×2×16×16, same) and `output3` (offset 1×2×16×16, raw).
///
/// The graph (docs/models/export.md):
/// - every BatchNorm is folded into the convolution or 1×1 conv before it (architecture.md §6);
/// - initializers carry the stable tensor names of `ModelArchitecture` (`patch_embed.0.conv.weight`,
///   `blocks.0.attn.qkv.weight`, …); a folded conv's bias is `<conv>.bias`. Layouts: conv weights
///   OIHW; Linear and Conv1d 1×1 weights (out, in) used by `Gemm(transB=1)`; GA's grouped qkv
///   (h, 2k+d, C/h) (a reshape of the checkpoint's tensor); tables without their leading 1
///   (`pos_z` 64×C, `pos_x` 256×C, `pos_embed` 321×C, `cls_token` 1×C);
/// - tokens are 2-D (N×C, batch 1); node names are module paths (`search/patch_embed.0.conv`,
///   `blocks.0.attn.qkv`, `blocks.0.attn/softmax`, `box_head.conv1_ctr.0`);
/// - only ops that ONNX Runtime, OpenCV's dnn and our reader all run: Conv, HardSwish, Relu,
///   Gemm, MatMul, LayerNormalization, Softmax, Reshape, Transpose, Slice, Concat, Add, Mul, Div,
///   Erf, Sigmoid, Clip (no ReduceMean, no Split);
/// - `metadata_props`: `etrack.config`, `etrack.template_size`, `etrack.search_size`,
///   `etrack.mean`, `etrack.std`, `etrack.color_order`, `etrack.box`, `etrack.score`,
///   `etrack.format_version`, `etrack.producer_version`.
///
/// The corner head exports `box` (1×4: cx, cy, w, h as crop fractions), `top_left` and
/// `bottom_right` (1×1×16×16 probability maps), the names of `ModelOutput`.
public enum ModelExporter {
    /// Version of the metadata/interface convention written in `etrack.format_version`.
    public static let formatVersion = "1"
    /// The etrack version written in `etrack.producer_version` by default.
    public static let producerVersion = "0.1.0"
    /// The ai.onnx opset written.
    public static let opset = 17

    /// The metadata keys written, in order.
    public static let metadataKeys = [
        "etrack.config", "etrack.template_size", "etrack.search_size", "etrack.mean", "etrack.std",
        "etrack.color_order", "etrack.box", "etrack.score", "etrack.format_version", "etrack.producer_version",
    ]

    /// `etrack.box` for the center head.
    public static let centerBoxSemantics = "center: output2=size (w,h) as fractions of the search crop, output3=offset (dx,dy) in cells"
    /// `etrack.box` for the corner head.
    public static let cornerBoxSemantics = "corner: box=(cx,cy,w,h) as fractions of the search crop, top_left/bottom_right=softmax maps"

    /// Output names and shapes of `config`'s graph.
    public static func outputs(of config: ModelConfiguration) -> [(name: String, dims: [Int])] {
        let s = config.searchSide
        switch config.head {
        case .center: return [("output1", [1, 1, s, s]), ("output2", [1, 2, s, s]), ("output3", [1, 2, s, s])]
        case .corner: return [("box", [1, 4]), ("top_left", [1, 1, s, s]), ("bottom_right", [1, 1, s, s])]
        }
    }

    /// `etrack.config`: the registry name when it resolves to exactly this configuration
    /// (overrides included), else the configuration as JSON (sorted keys).
    public static func configurationString(_ config: ModelConfiguration) -> String {
        if let named = try? ModelRegistry.configuration(named: config.name), named == config { return config.name }
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return (try? String(decoding: e.encode(config), as: UTF8.self)) ?? config.name
    }

    /// The `metadata_props` written for `config`, in `metadataKeys` order.
    public static func metadata(for config: ModelConfiguration, producerVersion: String = ModelExporter.producerVersion)
        -> [(key: String, value: String)] {
        [
            ("etrack.config", configurationString(config)),
            ("etrack.template_size", "\(config.templateSize)"),
            ("etrack.search_size", "\(config.searchSize)"),
            ("etrack.mean", "0.485,0.456,0.406"),
            ("etrack.std", "0.229,0.224,0.225"),
            ("etrack.color_order", "RGB"),
            ("etrack.box", config.head == .center ? centerBoxSemantics : cornerBoxSemantics),
            ("etrack.score", config.head == .center ? "sigmoid" : "none"),
            ("etrack.format_version", formatVersion),
            ("etrack.producer_version", producerVersion),
        ]
    }

    /// The ONNX model of `model`'s current weights.
    public static func definition(of model: Model, producerVersion: String = ModelExporter.producerVersion) -> ONNXModelDefinition {
        var w = GraphWriter(model)
        w.build()
        return w.g.model(metadata: metadata(for: model.configuration, producerVersion: producerVersion),
                         producerVersion: producerVersion,
                         docString: "EfficientTrack export of \(model.configuration.name)")
    }

    /// Serialised ONNX bytes of `model`.
    /// - Throws: `ONNXError` if the graph does not validate (a bug).
    public static func serialized(_ model: Model, producerVersion: String = ModelExporter.producerVersion) throws -> [UInt8] {
        try definition(of: model, producerVersion: producerVersion).serialized()
    }

    /// Writes `model` to `path` as ONNX.
    public static func write(_ model: Model, to path: String, producerVersion: String = ModelExporter.producerVersion) throws {
        try definition(of: model, producerVersion: producerVersion).write(to: path)
    }
}

/// Builds the graph of one model; see `ModelExporter`.
struct GraphWriter {
    let model: Model
    let cfg: ModelConfiguration
    var g: ONNXGraphBuilder
    private var convs: [String: LayerSpec.Convolution] = [:]
    private var added = Set<String>()

    init(_ model: Model) {
        self.model = model
        cfg = model.configuration
        g = ONNXGraphBuilder(name: cfg.name.isEmpty ? "etrack" : cfg.name, opset: ModelExporter.opset)
        for l in ModelArchitecture.layers(of: cfg) {
            if case let .convolution(c) = l.kind { convs[l.name] = c }
        }
    }

    private func a(_ name: String) -> [Float] { model.array(name) }

    /// Adds an initializer once (shared weights are used by template and search).
    private mutating func param(_ name: String, _ dims: [Int], _ data: [Float]) -> String {
        if added.insert(name).inserted {
            precondition(dims.reduce(1, *) == data.count, "export: \(name) has \(data.count) values for \(dims)")
            return g.initializer(ONNXTensorValue(name: name, dims: dims, floats: data))
        }
        return name
    }

    /// Weight and bias of convolution `name` (a `LayerSpec` conv) with its BN folded.
    private func folded(_ name: String) -> (weight: [Float], bias: [Float]?) {
        let spec = convs[name]!
        let w = a("\(name).weight"), b = spec.bias ? a("\(name).bias") : nil
        guard let bn = spec.batchNorm?.name else { return (w, b) }
        let f = BatchNorm.fold(weight: w, bias: b, bnWeight: a("\(bn).weight"), bnBias: a("\(bn).bias"),
                               runningMean: a("\(bn).running_mean"), runningVar: a("\(bn).running_var"))
        return (f.weight, f.bias)
    }

    /// A 2-D convolution with BN folded; node `node` (defaults to the module path).
    private mutating func conv2d(_ x: String, _ name: String, node: String? = nil) -> String {
        let spec = convs[name]!
        let (w, b) = folded(name)
        let wn = param("\(name).weight", [spec.outChannels, spec.inChannels / spec.groups, spec.kernel, spec.kernel], w)
        let bn = b.map { param("\(name).bias", [spec.outChannels], $0) }
        let p = spec.padding
        return g.conv(x, weight: wn, bias: bn, strides: [spec.stride, spec.stride], pads: [p, p, p, p],
                      groups: spec.groups, kernelShape: [spec.kernel, spec.kernel], name: node ?? name)
    }

    /// y = x·Wᵀ + b on N×I tokens as one Gemm(transB=1); W is (out, in) as stored (a Conv1d 1×1
    /// weight (out, in, 1) is written as (out, in)); `bn` folds a following BatchNorm.
    private mutating func gemm(_ x: String, _ name: String, inFeatures i: Int, outFeatures o: Int, bias: Bool,
                               foldConv: Bool = false) -> String {
        var w: [Float], b: [Float]?
        if foldConv { (w, b) = folded(name) } else { w = a("\(name).weight"); b = bias ? a("\(name).bias") : nil }
        let wn = param("\(name).weight", [o, i], w)
        let bn = b.map { param("\(name).bias", [o], $0) }
        return g.gemm(x, wn, bn, transB: true, name: name)
    }

    private mutating func layerNorm(_ x: String, _ name: String) -> String {
        let c = cfg.channels
        let s = param("\(name).weight", [c], a("\(name).weight")), b = param("\(name).bias", [c], a("\(name).bias"))
        return g.layerNormalization(x, scale: s, bias: b, axis: -1, epsilon: LayerNorm.epsilon, name: name)
    }

    mutating func build() {
        let c = cfg.channels
        let z = g.input("template", dims: [1, 3, cfg.templateSize, cfg.templateSize])
        let x = g.input("search", dims: [1, 3, cfg.searchSize, cfg.searchSize])
        let zt = stem(z, prefix: "template", tokens: cfg.templateTokens)
        let xt = stem(x, prefix: "search", tokens: cfg.searchTokens)

        // Tokens and position tables.
        var t: String
        switch cfg.tokenLayout {
        case .templateSearch:
            let pz = param("pos_z", [cfg.templateTokens, c], a("pos_z"))
            let px = param("pos_x", [cfg.searchTokens, c], a("pos_x"))
            t = g.concat([g.add(zt, pz, name: "template/pos_add"), g.add(xt, px, name: "search/pos_add")], axis: 0, name: "tokens/concat")
        case .clsSearchTemplate:
            let cls = param("cls_token", [1, c], a("cls_token"))
            t = g.concat([cls, xt, zt], axis: 0, name: "tokens/concat")
            t = g.add(t, param("pos_embed", [cfg.tokens, c], a("pos_embed")), name: "tokens/pos_add")
        }

        // Blocks.
        for b in 0..<cfg.depth {
            let p = "blocks.\(b)"
            if cfg.block == .vit {
                var h = layerNorm(t, "\(p).norm1")
                h = gemm(h, "\(p).attn.qkv", inFeatures: c, outFeatures: 3 * c, bias: cfg.qkvBias)
                h = attention(qkv: h, path: "\(p).attn")
                h = gemm(h, "\(p).attn.proj", inFeatures: c, outFeatures: c, bias: true)
                t = g.add(t, h, name: "\(p)/attn_residual")
                h = layerNorm(t, "\(p).norm2")
                h = gemm(h, "\(p).mlp.fc1", inFeatures: c, outFeatures: cfg.ffnRatio * c, bias: true)
                h = g.gelu(h, name: "\(p).mlp.act")
                h = gemm(h, "\(p).mlp.fc2", inFeatures: cfg.ffnRatio * c, outFeatures: c, bias: true)
                t = g.add(t, h, name: "\(p)/mlp_residual")
                continue
            }
            for (j, sub) in cfg.block.subLayers(ffnRatio: cfg.ffnRatio, sandwichFFNRatio: cfg.sandwichFFNRatio).enumerated() {
                let q = "\(p).\(j)"
                var h: String
                switch sub {
                case let .ffn(r):
                    h = gemm(t, "\(q).fc1.conv", inFeatures: c, outFeatures: r * c, bias: false, foldConv: true)
                    h = g.relu(h, name: "\(q).act")
                    h = gemm(h, "\(q).fc2.conv", inFeatures: r * c, outFeatures: c, bias: false, foldConv: true)
                case .attention:
                    h = cfg.attentionNorm ? layerNorm(t, "\(q).norm") : t
                    h = gemm(h, "\(q).qkv", inFeatures: c, outFeatures: 3 * c, bias: false)
                    h = attention(qkv: h, path: "\(q).attn")
                    h = gemm(h, "\(q).proj", inFeatures: c, outFeatures: c, bias: true)
                case .groupedAttention:
                    h = groupedAttention(t, path: q)
                }
                t = g.add(t, h, name: "\(q)/residual")
            }
        }
        t = layerNorm(t, "norm")

        // Head input: the search tokens as 1×C×S×S.
        let first = cfg.tokenLayout == .templateSearch ? cfg.templateTokens : 1
        var xs = g.slice(t, starts: [first], ends: [first + cfg.searchTokens], axes: [0], name: "head_input/slice")
        if cfg.head == .corner && cfg.hasClassToken {
            let cls = g.slice(t, starts: [0], ends: [1], axes: [0], name: "head_input/cls_slice")
            let weight = g.matMul(xs, g.transpose(cls, perm: [1, 0], name: "head_input/cls_transpose"), name: "head_input/cls_dot")
            xs = g.mul(xs, weight, name: "head_input/cls_weight")
        }
        let s = cfg.searchSide
        var f = g.transpose(xs, perm: [1, 0], name: "head_input/transpose")
        f = g.reshape(f, [1, c, s, s], name: "head_input/reshape")

        switch cfg.head {
        case .center:
            let lo = g.scalar(1e-4), hi = g.scalar(1 - 1e-4)
            let score = tower(f, "ctr"), size = tower(f, "size"), offset = tower(f, "offset")
            let s1 = g.node("Clip", [g.sigmoid(score, name: "box_head/score_sigmoid"), lo, hi], name: "box_head/score_clip")[0]
            let s2 = g.node("Clip", [g.sigmoid(size, name: "box_head/size_sigmoid"), lo, hi], name: "box_head/size_clip")[0]
            g.output(s1, as: "output1", dims: [1, 1, s, s])
            g.output(s2, as: "output2", dims: [1, 2, s, s])
            g.output(offset, as: "output3", dims: [1, 2, s, s])
        case .corner:
            let stride = ModelConfiguration.patchSize, m = s * s
            func grid(_ shift: Int) -> [Float] {
                var v = [Float](repeating: 0, count: m * 2)
                for iy in 0..<s { for ix in 0..<s {
                    v[(iy * s + ix) * 2] = Float(ix * stride + shift)
                    v[(iy * s + ix) * 2 + 1] = Float(iy * stride + shift)
                } }
                return v
            }
            let gridTL = param("box_head/coord_tl", [m, 2], grid(0)), gridBR = param("box_head/coord_br", [m, 2], grid(stride - 1))
            var corners: [String] = []
            for (t, coords, out) in [("tl", gridTL, "top_left"), ("br", gridBR, "bottom_right")] {
                let logits = g.reshape(tower(f, t), [1, m], name: "box_head/\(t)_flatten")
                let prob = g.softmax(logits, axis: -1, name: "box_head/\(t)_softmax")
                corners.append(g.matMul(prob, coords, name: "box_head/\(t)_soft_argmax"))
                g.output(g.reshape(prob, [1, 1, s, s], name: "box_head/\(t)_map"), as: out, dims: [1, 1, s, s])
            }
            // [x1, y1, x2, y2] · M = [(x1+x2)/2, (y1+y2)/2, x2−x1, y2−y1] / (S·stride).
            let size = Float(s * stride)
            let mtx: [Float] = [0.5, 0, -1, 0,
                                0, 0.5, 0, -1,
                                0.5, 0, 1, 0,
                                0, 0.5, 0, 1].map { $0 / size }
            let xyxy = g.concat(corners, axis: 1, name: "box_head/corners")
            g.output(g.matMul(xyxy, param("box_head/xyxy_to_cxcywh", [4, 4], mtx), name: "box_head/cxcywh"), as: "box", dims: [1, 4])
        }
    }

    /// The stem on one image: four stride-2 convs (BN folded) with HardSwish between them, or one
    /// 16×16 conv; then 1×C×H×W → (H·W)×C tokens.
    private mutating func stem(_ image: String, prefix: String, tokens: Int) -> String {
        var y = image
        if cfg.stem == .linear16 {
            y = conv2d(y, "patch_embed.proj", node: "\(prefix)/patch_embed.proj")
        } else {
            for i in 0..<4 {
                y = conv2d(y, "patch_embed.\(i).conv", node: "\(prefix)/patch_embed.\(i).conv")
                if i < 3 { y = g.hardSwish(y, name: "\(prefix)/patch_embed.\(i).act") }
            }
        }
        y = g.reshape(y, [cfg.channels, tokens], name: "\(prefix)/flatten")
        return g.transpose(y, perm: [1, 0], name: "\(prefix)/tokens")
    }

    /// Multi-head self-attention on qkv (N×3C, [q | k | v], heads of C/h): N×C.
    private mutating func attention(qkv: String, path: String) -> String {
        let c = cfg.channels, h = cfg.heads, d = cfg.headDim, n = cfg.tokens
        func split(_ g: inout ONNXGraphBuilder, _ i: Int, _ tag: String, _ perm: [Int]) -> String {
            let part = g.slice(qkv, starts: [i * c], ends: [(i + 1) * c], axes: [1], name: "\(path)/\(tag)_slice")
            return g.transpose(g.reshape(part, [n, h, d], name: "\(path)/\(tag)_reshape"), perm: perm, name: "\(path)/\(tag)_transpose")
        }
        let q = split(&g, 0, "q", [1, 0, 2])        // h×N×d
        let k = split(&g, 1, "k", [1, 2, 0])        // h×d×N
        let v = split(&g, 2, "v", [1, 0, 2])        // h×N×d
        var s = g.matMul(q, k, name: "\(path)/qk")
        s = g.mul(s, g.scalar(1 / Float(d).squareRoot()), name: "\(path)/scale")
        s = g.softmax(s, axis: -1, name: "\(path)/softmax")
        var o = g.matMul(s, v, name: "\(path)/av")  // h×N×d
        o = g.transpose(o, perm: [1, 0, 2], name: "\(path)/merge_transpose")
        return g.reshape(o, [n, c], name: "\(path)/merge_reshape")
    }

    /// EfficientTrack's GA on tokens t (N×C): grouped qkv as a batched MatMul with the checkpoint's
    /// weight reshaped to (h, 2k+d, C/h), per-head softmax(qᵀk/√k) over all tokens, ReLU, proj
    /// with the BN1d folded. Returns the residual branch (N×C).
    private mutating func groupedAttention(_ t: String, path q: String) -> String {
        let c = cfg.channels, h = cfg.heads, kd = cfg.groupedKeyDim, vd = cfg.groupedValueDim, n = cfg.tokens
        let hd = 2 * kd + vd, cg = c / h
        let w = param("\(q).qkv.weight", [h, hd, cg], a("\(q).qkv.weight"))
        let b = param("\(q).qkv.bias", [h, hd, 1], a("\(q).qkv.bias"))
        var x = g.transpose(t, perm: [1, 0], name: "\(q).qkv/channel_major")          // C×N
        x = g.reshape(x, [h, cg, n], name: "\(q).qkv/group_reshape")                 // h×(C/h)×N
        var y = g.matMul(w, x, name: "\(q).qkv")                                      // h×(2k+d)×N
        y = g.add(y, b, name: "\(q).qkv/bias")
        let qs = g.slice(y, starts: [0], ends: [kd], axes: [1], name: "\(q).attn/q_slice")
        let ks = g.slice(y, starts: [kd], ends: [2 * kd], axes: [1], name: "\(q).attn/k_slice")
        let vs = g.slice(y, starts: [2 * kd], ends: [hd], axes: [1], name: "\(q).attn/v_slice")
        var s = g.matMul(g.transpose(qs, perm: [0, 2, 1], name: "\(q).attn/q_transpose"), ks, name: "\(q).attn/qk")  // h×N×N
        s = g.mul(s, g.scalar(1 / Float(kd).squareRoot()), name: "\(q).attn/scale")
        s = g.softmax(s, axis: -1, name: "\(q).attn/softmax")
        var o = g.matMul(s, g.transpose(vs, perm: [0, 2, 1], name: "\(q).attn/v_transpose"), name: "\(q).attn/av")  // h×N×d
        o = g.transpose(o, perm: [1, 0, 2], name: "\(q).attn/merge_transpose")
        o = g.reshape(o, [n, h * vd], name: "\(q).attn/merge_reshape")
        o = g.relu(o, name: "\(q).act")
        return gemm(o, "\(q).proj", inFeatures: h * vd, outFeatures: c, bias: true, foldConv: true)
    }

    /// One head tower on f (1×C×S×S): [Conv3×3 (BN folded) + ReLU]×4, Conv1×1.
    private mutating func tower(_ f: String, _ t: String) -> String {
        var y = f
        for l in 1...4 {
            y = conv2d(y, "box_head.conv\(l)_\(t).0")
            y = g.relu(y, name: "box_head.conv\(l)_\(t).2")
        }
        return conv2d(y, "box_head.conv5_\(t)")
    }
}
