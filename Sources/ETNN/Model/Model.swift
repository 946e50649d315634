import ETCore

/// A model: a configuration, its parameter table and one flat buffer holding every tensor
/// (training-time form: BatchNorms unfolded, with running statistics).
///
/// Inference goes through an `InferencePlan` (BNs folded, weights packed), built on first use and
/// rebuilt after the weights change.
public final class Model: @unchecked Sendable {
    public let configuration: ModelConfiguration
    public let table: ParameterTable
    /// Every tensor back to back in `table` order.
    public var parameters: [Float] { didSet { cachedPlan = nil } }
    private var cachedPlan: InferencePlan?

    /// A model with default values: BN γ = 1, running variance 1, everything else 0, except the
    /// VitTrack position table (1-D sin/cos, cls row zero). Seeded random initialisation is the
    /// weights module's job (`Weights/`).
    /// - Throws: `ModelError.invalidConfiguration`.
    public init(_ configuration: ModelConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        table = ParameterTable(configuration)
        parameters = [Float](repeating: 0, count: table.totalCount)
        for s in table.specs where s.role == .normWeight || s.role == .runningVar {
            for i in 0..<s.count { parameters[s.offset + i] = 1 }
        }
        if let pos = table["pos_embed"] {
            let t = PositionEmbedding.vitTrackTable(patchTokens: configuration.templateTokens + configuration.searchTokens,
                                                    channels: configuration.channels)
            parameters.replaceSubrange(pos.offset..<pos.offset + pos.count, with: t)
        }
    }

    /// Convenience: the built-in (or `@`-overridden) configuration called `name`.
    public convenience init(named name: String) throws {
        try self.init(ModelRegistry.configuration(named: name))
    }

    /// The elements of tensor `name` (a copy).
    public func array(_ name: String) -> [Float] {
        guard let s = table[name] else { preconditionFailure("Model: no tensor '\(name)' in \(configuration.name)") }
        return Array(parameters[s.offset..<s.offset + s.count])
    }

    /// Tensor `name`, or nil when the configuration has none.
    public func tensor(_ name: String) -> Tensor? {
        guard let s = table[name] else { return nil }
        return Tensor(shape: s.shape, data: Array(parameters[s.offset..<s.offset + s.count]))
    }

    /// Every tensor by name (what a checkpoint writer saves).
    public func tensors() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: table.specs.map { ($0.name, tensor($0.name)!) })
    }

    /// Fills the model from named tensors (e.g. what the safetensors reader returns).
    ///
    /// Every tensor of the table must be present with its exact shape and finite values;
    /// PyTorch's `num_batches_tracked` buffers are ignored.
    /// - Parameter allowMissing: keep the current values of absent tensors (partial loads,
    ///   e.g. a backbone-only checkpoint).
    /// - Throws: `ModelError.unexpectedTensor`, `.missingTensor`, `.shapeMismatch` or `.nonFinite`,
    ///   naming the tensor (and the expected and found shapes). Nothing is changed on error.
    public func load(_ tensors: [String: Tensor], allowMissing: Bool = false) throws {
        for name in tensors.keys.sorted() where table[name] == nil && !name.hasSuffix("num_batches_tracked") {
            throw ModelError.unexpectedTensor(name)
        }
        var updated = parameters
        for spec in table.specs {
            guard let t = tensors[spec.name] else {
                if allowMissing { continue }
                throw ModelError.missingTensor(spec.name)
            }
            guard t.shape == spec.shape else { throw ModelError.shapeMismatch(name: spec.name, expected: spec.shape, found: t.shape) }
            if let bad = t.data.firstIndex(where: { !$0.isFinite }) { throw ModelError.nonFinite(name: spec.name, index: bad) }
            updated.replaceSubrange(spec.offset..<spec.offset + spec.count, with: t.data)
        }
        parameters = updated
    }

    /// The folded, packed inference form of the current weights (cached).
    public func inferencePlan() -> InferencePlan {
        if let p = cachedPlan { return p }
        let p = InferencePlan(self)
        cachedPlan = p
        return p
    }

    /// Runs the network on normalised crops (template 1×3×128×128, search 1×3×256×256 by default).
    /// - Throws: `ModelError.badInput` for wrong shapes or non-finite inputs.
    public func forward(template: Tensor, search: Tensor, pool: ThreadPool = .serial) throws -> ModelOutput {
        try inferencePlan().forward(template: template, search: search, pool: pool)
    }
}

/// What the head produces. Center head: `score` 1×1×S×S, `size` 1×2×S×S, `offset` 1×2×S×S
/// (ONNX `output1`…`output3`). Corner head: `box` 1×4 (cx, cy, w, h as crop fractions) and the
/// `topLeft` / `bottomRight` probability maps 1×1×S×S.
public struct ModelOutput: Sendable {
    public var score: Tensor?
    public var size: Tensor?
    public var offset: Tensor?
    public var box: Tensor?
    public var topLeft: Tensor?
    public var bottomRight: Tensor?
}
