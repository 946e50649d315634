/// One weighted layer (or table) of a model as data: what it computes, its tensors' names and
/// shapes, and how many output positions it produces. The list `ModelArchitecture.layers(of:)`
/// is the single declaration of a model that drives the parameter table (allocation,
/// checkpoint names) and the parameter/MAC accounting.
public struct LayerSpec: Sendable, Equatable {
    /// Where a BatchNorm after a convolution sits, which decides how the notes fold it.
    public enum BatchNormRole: String, Sendable, Equatable {
        /// Built as one Conv+BN unit (stem stages, both FFN convs): the reference deploy step
        /// folds it, and the notes count EfficientTrack after that folding.
        case unit
        /// A separate module (GA's output BN1d, the head's BN2d): left in by the reference deploy
        /// step, folded by our engine.
        case separate
    }

    /// A 1-D or 2-D convolution, optionally followed by a BatchNorm over its output channels.
    public struct Convolution: Sendable, Equatable {
        public var inChannels: Int, outChannels: Int
        public var kernel: Int, stride: Int, padding: Int, groups: Int
        public var bias: Bool
        /// Conv1d (weight O×I/G×k) rather than Conv2d (O×I/G×k×k).
        public var oneDimensional: Bool
        /// Output positions summed over every input it is applied to (z and x for the stem).
        public var positions: Int
        /// The following BatchNorm, its tensor prefix and role.
        public var batchNorm: (name: String, role: BatchNormRole)?

        public static func == (a: Convolution, b: Convolution) -> Bool {
            a.inChannels == b.inChannels && a.outChannels == b.outChannels && a.kernel == b.kernel
                && a.stride == b.stride && a.padding == b.padding && a.groups == b.groups && a.bias == b.bias
                && a.oneDimensional == b.oneDimensional && a.positions == b.positions
                && a.batchNorm?.name == b.batchNorm?.name && a.batchNorm?.role == b.batchNorm?.role
        }

        public var weightShape: [Int] {
            oneDimensional ? [outChannels, inChannels / groups, kernel]
                : [outChannels, inChannels / groups, kernel, kernel]
        }
    }

    public enum Kind: Sendable, Equatable {
        case convolution(Convolution)
        /// LayerNorm over `channels`, applied to `rows` tokens.
        case layerNorm(channels: Int, rows: Int)
        /// y = x·Wᵀ (+ b) over `rows` tokens; W is out×in.
        case linear(inFeatures: Int, outFeatures: Int, rows: Int, bias: Bool)
        /// softmax(Q·Kᵀ)·V per head: no weights; h·N·N·(qk + v) MACs, not counted by the notes.
        case attention(heads: Int, qkDim: Int, valueDim: Int, tokens: Int)
        /// A learned table added to or inserted among the tokens (position tables, cls token);
        /// excluded from the notes' parameter count.
        case table(shape: [Int])
    }

    /// Accounting stage: `stem`, `tokens`, `block.<i>`, `norm`, `head`.
    public var stage: String
    /// Tensor-name prefix (`patch_embed.0.conv`), or the full name for a table.
    public var name: String
    public var kind: Kind

    public init(stage: String, name: String, kind: Kind) {
        self.stage = stage; self.name = name; self.kind = kind
    }
}

/// The model as a list of `LayerSpec`s, in execution order.
///
/// Tensor naming scheme (stable; the safetensors files use it):
/// - stem: `patch_embed.<i>.conv.weight` and `patch_embed.<i>.bn.{weight,bias,running_mean,running_var}`
///   for i = 0…3 (conv3x3/conv2x2); `patch_embed.proj.{weight,bias}` for linear16;
/// - tokens: `pos_z` (1×64×C) and `pos_x` (1×256×C); or `cls_token` (1×1×C) and `pos_embed` (1×321×C);
/// - ViT block b (timm names): `blocks.<b>.norm1.*`, `blocks.<b>.attn.qkv.*`, `blocks.<b>.attn.proj.*`,
///   `blocks.<b>.norm2.*`, `blocks.<b>.mlp.fc1.*`, `blocks.<b>.mlp.fc2.*`;
/// - EfficientTrack block b, sub-layer j (0-based, execution order):
///   FFN `blocks.<b>.<j>.fc1.conv.weight` (rC×C×1), `blocks.<b>.<j>.fc1.bn.*`, same for `fc2`;
///   A `blocks.<b>.<j>.norm.*` (if present), `blocks.<b>.<j>.qkv.weight` (3C×C), `blocks.<b>.<j>.proj.*`;
///   GA `blocks.<b>.<j>.qkv.{weight,bias}` ((2k+d)h × C/h × 1), `blocks.<b>.<j>.proj.*` (C×C×1), `blocks.<b>.<j>.bn.*`;
/// - final LayerNorm: `norm.{weight,bias}`;
/// - center head (OSTrack names): `box_head.conv<l>_<t>.0.{weight,bias}` (conv) and
///   `box_head.conv<l>_<t>.1.*` (BN) for l = 1…4, `box_head.conv5_<t>.{weight,bias}`,
///   t ∈ {ctr, size, offset}; corner head (STARK names): t ∈ {tl, br}.
/// Weights are PyTorch's layouts (Conv OIHW / OIK, Linear out×in), so checkpoints map 1:1.
public enum ModelArchitecture {
    /// The layers of `config`, flattened from `NetworkDescription` in execution order.
    /// - Parameter countClassToken: whether the blocks see the cls token (true: what the forward
    ///   pass computes; false: the notes' VitTrack MAC convention, N = 320).
    public static func layers(of config: ModelConfiguration, countClassToken: Bool = true) -> [LayerSpec] {
        NetworkDescription(config, countClassToken: countClassToken).layers
    }
}
